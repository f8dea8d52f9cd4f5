#!lua flags=no-writes
-- alerts_read.lua: what the spike detector needs of one series, in one step.
-- KEYS[1] the detector state hash, KEYS[2..] trend bucket hashes (minute, hour or day).
-- ARGV[1] the series; then for each bucket key, the first and last field (epoch minute,
-- hour or day) wanted from it.
-- Returns {state or false, then per bucket key: false if the key does not exist, else the
-- counts of its fields first..last (0 where absent)}.
local out = {redis.call('HGET', KEYS[1], ARGV[1])}
for k = 2, #KEYS do
  if redis.call('EXISTS', KEYS[k]) == 0 then
    out[k] = false
  else
    local first, last = tonumber(ARGV[2 * k - 2]), tonumber(ARGV[2 * k - 1])
    local fields = {}
    for f = first, last do fields[#fields + 1] = tostring(f) end
    local vals = redis.call('HMGET', KEYS[k], unpack(fields))
    for i = 1, #vals do vals[i] = tonumber(vals[i]) or 0 end
    out[k] = vals
  end
end
return out

#!lua flags=no-writes
-- alerts_read.lua: what the spike detector needs of one series, in one step.
-- KEYS[1] the detector state hash, KEYS[2..] trend bucket hashes (minute, hour or day).
-- ARGV[1] the series; then for each bucket key, the first and last bucket (epoch minute,
-- hour or day) wanted from it.
-- Returns {state or false, then per bucket key: false if the key does not exist, else the
-- counts of its buckets first..last (0 where absent)}. A day field holds "count[,...]"; a
-- minute key has a field per hour holding "<minute>=count[,...];...", an hour key a field
-- per UTC day holding "<hour>=count[,...];..." (and, in the first layout, a field per
-- minute or hour: both are read; store/KEYS.md).
local out = {redis.call('HGET', KEYS[1], ARGV[1])}
local function count(v) return tonumber(string.match(v or '', '^%d+')) or 0 end
for k = 2, #KEYS do
  if redis.call('EXISTS', KEYS[k]) == 0 then
    out[k] = false
  else
    local first, last = tonumber(ARGV[2 * k - 2]), tonumber(ARGV[2 * k - 1])
    local fields = {}
    for f = first, last do fields[#fields + 1] = tostring(f) end
    local vals = redis.call('HMGET', KEYS[k], unpack(fields))
    for i = 1, #vals do vals[i] = count(vals[i]) end
    local per = string.find(KEYS[k], ':tr:h:', 1, true) and 24
                or string.find(KEYS[k], ':tr:m:', 1, true) and 60
    if per then
      local d0 = math.floor(first / per)
      local groups = {}
      for d = d0, math.floor(last / per) do groups[#groups + 1] = tostring(d) end
      local dv = redis.call('HMGET', KEYS[k], unpack(groups))
      for i = 1, #dv do
        for o, c in string.gmatch(dv[i] or '', '(%d+)=(%d+)') do
          local h = (d0 + i - 1) * per + tonumber(o)
          if h >= first and h <= last then
            vals[h - first + 1] = vals[h - first + 1] + tonumber(c)
          end
        end
      end
    end
    out[k] = vals
  end
end
return out

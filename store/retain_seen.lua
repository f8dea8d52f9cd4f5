#!lua
-- retain_seen.lua: a source's seen-set forgets the ids its source has not
-- served for ARGV[2] ms, counted back from the newest time it served any
-- (not from now): a source that stops changing (a feed answering 304 for a
-- month) keeps every id it still lists, so none comes back as new.
-- KEYS[1] the seen zset (id -> last served, ms; a set from before retention is
-- converted, its ids scored now, as add_raw.lua does)
-- ARGV[1] now (ms), ARGV[2] the seen retention (ms)
-- Returns how many ids were forgotten.
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'set' then
  local ids = redis.call('SMEMBERS', KEYS[1])
  redis.call('DEL', KEYS[1])
  for i = 1, #ids, 500 do
    local a = {}
    for j = i, math.min(i + 499, #ids) do a[#a + 1] = ARGV[1]; a[#a + 1] = ids[j] end
    redis.call('ZADD', KEYS[1], unpack(a))
  end
  return 0
end
if t ~= 'zset' then return 0 end
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local newest = math.min(tonumber(ARGV[1]), tonumber(top[2]))
return redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf',
                  '(' .. string.format('%d', newest - tonumber(ARGV[2])))

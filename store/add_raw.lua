#!lua
-- add_raw.lua: add a collected item to the raw stream unless its id was seen.
-- KEYS[1] seen zset of the source (id -> the last time the source served it, ms), KEYS[2] raw stream
-- ARGV[1] item id, ARGV[2] item JSON, ARGV[3] approximate stream cap, ARGV[4] now ms
-- A seen set from before retention (a SET) becomes the zset here, its ids scored now.
-- Returns the new stream id, or false when the item was already seen.
if redis.call('TYPE', KEYS[1]).ok == 'set' then
  local ids = redis.call('SMEMBERS', KEYS[1])
  redis.call('DEL', KEYS[1])
  for i = 1, #ids, 500 do
    local a = {}
    for j = i, math.min(i + 499, #ids) do a[#a + 1] = ARGV[4]; a[#a + 1] = ids[j] end
    redis.call('ZADD', KEYS[1], unpack(a))
  end
end
if redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1]) == 0 then
  return false
end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'id', ARGV[1], 'item', ARGV[2])

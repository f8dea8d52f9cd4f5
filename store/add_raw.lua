#!lua
-- add_raw.lua: add collected items to the raw stream unless their ids were seen.
-- KEYS[1] seen zset of the source (id -> the last time the source served it, ms), KEYS[2] raw stream
-- ARGV[1] item id, ARGV[2] item JSON, ARGV[3] approximate stream cap, ARGV[4] now ms,
-- then ARGV[5], ARGV[6]... more ids and JSONs: a fetch's items of one shard in one call
-- (store_add_raw_many(); all of them in the slot of KEYS).
-- A seen set from before retention (a SET) becomes the zset here, its ids scored now.
-- Returns the new stream id, or false when the item was already seen; given more than one
-- item, a list of those, one per item in order.
if redis.call('TYPE', KEYS[1]).ok == 'set' then
  local ids = redis.call('SMEMBERS', KEYS[1])
  redis.call('DEL', KEYS[1])
  for i = 1, #ids, 500 do
    local a = {}
    for j = i, math.min(i + 499, #ids) do a[#a + 1] = ARGV[4]; a[#a + 1] = ids[j] end
    redis.call('ZADD', KEYS[1], unpack(a))
  end
end
local function add(id, json)
  if redis.call('ZADD', KEYS[1], ARGV[4], id) == 0 then
    return false
  end
  return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'id', id, 'item', json)
end
if #ARGV <= 4 then
  return add(ARGV[1], ARGV[2])
end
local out = {add(ARGV[1], ARGV[2])}
for i = 5, #ARGV - 1, 2 do
  out[#out + 1] = add(ARGV[i], ARGV[i + 1])
end
return out

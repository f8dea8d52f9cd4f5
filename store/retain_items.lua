#!lua
-- retain_items.lua: items published before the cutoff leave ctx:{i}:idx:all;
-- a hash among them with no expiry was stored before retention existed and
-- goes with it (an item of an open task has one: retain_extend.lua runs first).
-- KEYS[1] ctx:{i}:idx:all
-- ARGV[1] cutoff (ms: scores below it go), ARGV[2] at most this many,
-- ARGV[3] the item key prefix (ctx:{i}:item:): the items are named by the index, so
-- their keys are built here, in the slot of KEYS (store/KEYS.md)
-- Returns how many left the index.
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0,
                       tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  local k = ARGV[3] .. id
  if redis.call('PTTL', k) == -1 then redis.call('DEL', k) end
  redis.call('ZREM', KEYS[1], id)
end
return #ids

-- retain_items.lua: items published before the cutoff leave ctx:idx:all;
-- a hash among them with no expiry was stored before retention existed and
-- goes with it (an item of an open task has one: retain_open.lua runs first).
-- KEYS[1] ctx:idx:all
-- ARGV[1] cutoff (ms: scores below it go), ARGV[2] at most this many,
-- ARGV[3] the name of an item hash, as store/keys.c makes it, with "\1" where the id goes
-- (the item hashes are built inside from it: store/KEYS.md)
-- Returns how many left the index.
local function named(tpl, id)
  local i = string.find(tpl, '\1', 1, true)
  return string.sub(tpl, 1, i - 1) .. id .. string.sub(tpl, i + 1)
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0,
                       tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  local k = named(ARGV[3], id)
  if redis.call('PTTL', k) == -1 then redis.call('DEL', k) end
  redis.call('ZREM', KEYS[1], id)
end
return #ids

#!lua
-- retain_extend.lua: the item hashes of open tasks (read by retain_open.lua)
-- expire no sooner than ARGV[1]. An item with no expiry (stored before
-- retention) gets one, so that the sweep that forgets such items
-- (retain_items.lua, called after this) leaves it; one already gone stays gone.
-- KEYS[1..] the item hashes; ARGV[1] expire-at (ms)
-- Returns how many items had their expiry moved.
local n = 0
for _, k in ipairs(KEYS) do
  local ttl = redis.call('PTTL', k)
  if ttl == -1 then
    n = n + redis.call('PEXPIREAT', k, ARGV[1])
  elseif ttl >= 0 then
    n = n + redis.call('PEXPIREAT', k, ARGV[1], 'GT')
  end
end
return n

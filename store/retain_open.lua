-- retain_open.lua: the items of open tasks never vanish under an agent: each
-- item of a task queued, offered or assigned expires no sooner than ARGV[1]
-- (now plus the items retention). The sweeper calls this every sweep, so an
-- item in use always has most of a retention period ahead of it.
-- KEYS[1] offers zset, KEYS[2] agents set, KEYS[3..] the waiting zsets of the queues
-- ARGV[1] expire-at (ms), ARGV[2] ARGV[3] ARGV[4] the names of a task hash, an item hash
-- and an agent's tasks set, as store/keys.c makes them, with "\1" where the id goes
-- Keys built inside from those names: the tasks in the zsets and sets, their items, and
-- the agents' tasks sets (store/KEYS.md).
-- An item with no expiry (stored before retention) gets one, so that the sweep that
-- forgets such items (retain_items.lua) leaves it.
-- Returns how many items had their expiry moved.
local function named(tpl, id)
  local i = string.find(tpl, '\1', 1, true)
  return string.sub(tpl, 1, i - 1) .. id .. string.sub(tpl, i + 1)
end
local at, done, n = ARGV[1], {}, 0
local function extend(task)
  if done[task] then return end
  done[task] = true
  local item = redis.call('HGET', named(ARGV[2], task), 'item')
  if not item or item == '' then return end
  local k = named(ARGV[3], item)
  local ttl = redis.call('PTTL', k)
  if ttl == -1 then
    n = n + redis.call('PEXPIREAT', k, at)
  elseif ttl >= 0 then
    n = n + redis.call('PEXPIREAT', k, at, 'GT')
  end
end
for i = 3, #KEYS do
  for _, t in ipairs(redis.call('ZRANGE', KEYS[i], 0, -1)) do extend(t) end
end
for _, t in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do extend(t) end
for _, a in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  for _, t in ipairs(redis.call('SMEMBERS', named(ARGV[4], a))) do extend(t) end
end
return n

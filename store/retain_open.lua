#!lua flags=no-writes
-- retain_open.lua: the items of the open tasks, so that none vanishes under an
-- agent: the caller then gives each item hash (in the items domain, so in
-- another slot) at least the items retention from now (retain_extend.lua).
-- The sweeper does this every sweep, so an item in use always has most of a
-- retention period ahead of it.
-- KEYS[1] offers zset, KEYS[2] agents set, KEYS[3..] the waiting zsets of the queues
-- ARGV[1] the task key prefix (ctx:{r}:task:), ARGV[2] the agent key prefix (ctx:{r}:agent:)
-- Keys built inside from those prefixes: the tasks in the zsets and sets, and the
-- agents' tasks sets (<prefix><id>:tasks), all in the slot of KEYS (store/KEYS.md).
-- Returns the item ids of the tasks queued, offered or assigned, each once.
local tasks, got, items = {}, {}, {}
local function add(task)
  if tasks[task] then return end
  tasks[task] = true
  local item = redis.call('HGET', ARGV[1] .. task, 'item')
  if item and item ~= '' and not got[item] then
    got[item] = true
    items[#items + 1] = item
  end
end
for i = 3, #KEYS do
  for _, t in ipairs(redis.call('ZRANGE', KEYS[i], 0, -1)) do add(t) end
end
for _, t in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do add(t) end
for _, a in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  for _, t in ipairs(redis.call('SMEMBERS', ARGV[2] .. a .. ':tasks')) do add(t) end
end
return items

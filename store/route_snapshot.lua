#!lua flags=no-writes
-- route_snapshot.lua: what the router needs to decide for one queue, in one
-- consistent read: the head of its line and the agents who could take work.
-- KEYS[1] waiting zset, KEYS[2] agents set
-- ARGV[1] how many tasks from the head, ARGV[2] the task key prefix (ctx:{r}:task:),
-- ARGV[3] the agent key prefix (ctx:{r}:agent:): the tasks and agents are named by the
-- zset and the set, so their keys are built here, in the slot of KEYS (store/KEYS.md)
-- Returns {tasks, agents}: tasks as flat field lists (id, channel, priority,
-- arrived, order, lang, refused, not_before, need), agents as HGETALL lists of
-- the agents whose state is available and who hold no offer.
local tasks = {}
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
for _, id in ipairs(ids) do
  local t = redis.call('HMGET', ARGV[2] .. id, 'channel', 'priority', 'arrived', 'order',
                       'lang', 'refused', 'not_before', 'need', 'state')
  if t[9] == 'queued' then
    tasks[#tasks + 1] = {id, t[1], t[2] or '0', t[3], t[4], t[5] or '', t[6] or '{}',
                         t[7] or '0', t[8] or ''}
  end
end
local agents = {}
if #tasks > 0 then
  for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    local st = redis.call('HMGET', ARGV[3] .. id, 'state', 'offers')
    if st[1] == 'available' and (tonumber(st[2]) or 0) == 0 then
      agents[#agents + 1] = redis.call('HGETALL', ARGV[3] .. id)
    end
  end
end
return {tasks, agents}

#!lua flags=no-writes
-- route_snapshot.lua: what the router needs to decide for one queue, in one
-- consistent read: the head of its line and the agents who could take work.
-- Its cost grows with the agents ready, not with the center: the agents come
-- from the ready set (store/KEYS.md), which the scripts that change an agent
-- keep, and the head read is as long as those agents could use (64 tasks
-- and 4 more per agent ready, at most ARGV[1]); with nobody ready no task is
-- read at all. With more than ARGV[4] agents ready (10,000 agents made
-- available at once), ARGV[4] of them picked at random are read: a pass
-- offers at most ARGV[1] tasks anyway, and the next pass reads others.
-- KEYS[1] waiting zset, KEYS[2] ready agents set
-- ARGV[1] at most how many tasks from the head, ARGV[2] the task key prefix
-- (ctx:{r}:task:), ARGV[3] the agent key prefix (ctx:{r}:agent:): the tasks and agents are
-- named by the zset and the set, so their keys are built here, in the slot of KEYS
-- (store/KEYS.md), ARGV[4] at most how many agents to read
-- Returns {tasks, agents}: tasks as flat field lists (id, channel, priority,
-- arrived, order, lang, refused, not_before, need), agents as flat name/value
-- lists of what routing reads of them, for the agents whose state is
-- available and who hold no offer.
local AGENT_FIELDS = {'id', 'state', 'offers', 'cap:social', 'load:social', 'cap:chat',
                      'load:chat', 'cap:callback', 'load:callback', 'callback_blocks_chat',
                      'idle_since', 'last_offer', 'handled', 'skills', 'langs'}
local agents = {}
-- the set is kept exact by the scripts; the state is checked again all the same
local most = tonumber(ARGV[4] or '0') or 0
local ready = (most > 0 and redis.call('SCARD', KEYS[2]) > most)
              and redis.call('SRANDMEMBER', KEYS[2], most) or redis.call('SMEMBERS', KEYS[2])
for _, id in ipairs(ready) do
  local v = redis.call('HMGET', ARGV[3] .. id, unpack(AGENT_FIELDS))
  if v[2] == 'available' and (tonumber(v[3]) or 0) == 0 then
    local a = {'id', id}
    for i = 2, #AGENT_FIELDS do
      if v[i] then a[#a + 1] = AGENT_FIELDS[i]; a[#a + 1] = v[i] end
    end
    agents[#agents + 1] = a
  end
end
local tasks = {}
if #agents > 0 then
  local head = math.min(tonumber(ARGV[1]), 64 + 4 * #agents)
  for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, head - 1)) do
    local t = redis.call('HMGET', ARGV[2] .. id, 'channel', 'priority', 'arrived', 'order',
                         'lang', 'refused', 'not_before', 'need', 'state')
    if t[9] == 'queued' then
      tasks[#tasks + 1] = {id, t[1], t[2] or '0', t[3], t[4], t[5] or '', t[6] or '{}',
                           t[7] or '0', t[8] or ''}
    end
  end
end
return {tasks, agents}

#!lua flags=no-writes
-- route_snapshot.lua: what the router needs to decide for one queue, in one
-- consistent read: the head of its line and the agents who could take work.
-- Its cost grows with what changed, not with the center: a router keeps a
-- copy of the ready agents (ctxd/route_agents.c) and passes the version of
-- the change log it is at (store/KEYS.md); only the agents changed since are
-- read. With no copy (0), a copy from before the log's `reset`, a version
-- ahead of the log's (another Redis, or one that went back), or more changes
-- than ARGV[4], every ready agent is read instead, from the ready set, which
-- the scripts that change an agent keep. With more than ARGV[4] agents ready
-- (10,000 agents made available at once), ARGV[4] of them picked at random
-- are read: a pass offers at most ARGV[1] tasks anyway, and the next pass
-- reads others. The head read is as long as the ready agents could use (64
-- tasks and 4 more per agent ready, at most ARGV[1]); with nobody ready no
-- task is read at all.
-- KEYS[1] waiting zset, KEYS[2] ready agents set, KEYS[3] its change log's counters
-- (hash: version, reset), KEYS[4] the changes zset (agent -> version)
-- ARGV[1] at most how many tasks from the head, ARGV[2] the task key prefix
-- (ctx:{r}:task:), ARGV[3] the agent key prefix (ctx:{r}:agent:): the tasks and agents are
-- named by the zset and the sets, so their keys are built here, in the slot of KEYS
-- (store/KEYS.md), ARGV[4] at most how many agents to read, ARGV[5] the version of the
-- caller's copy (0: none)
-- Returns {tasks, agents, gone, version, full, ready}. A task or an agent is one string,
-- its fields joined by NUL bytes (a field the hash does not have is empty): one bulk string
-- costs Redis much less to reply than a list of them, and no id, JSON or number holds a NUL.
-- tasks: id, channel, priority, arrived, order, lang, refused, not_before, need; agents:
-- the values of AGENT_FIELDS in that order (the id first), for the agents read whose state
-- is available and who hold no offer; gone, the ids of the agents read that are not (no longer
-- ready); version, the log's version this read is at; full, 1 if every ready agent was
-- read (the copy is to be replaced), 2 if only ARGV[4] of them, 0 if the changes; ready, how
-- many agents are in the ready set.
-- (ctxd/route_agents.c reads them in this order)
local AGENT_FIELDS = {'id', 'state', 'offers', 'cap:social', 'load:social', 'cap:chat',
                      'load:chat', 'cap:callback', 'load:callback', 'callback_blocks_chat',
                      'idle_since', 'last_offer', 'handled', 'skills', 'langs'}
local log = redis.call('HMGET', KEYS[3], 'version', 'reset')
local version, reset = tonumber(log[1]) or 0, tonumber(log[2]) or 0
local since = tonumber(ARGV[5] or '0') or 0
local most = tonumber(ARGV[4] or '0') or 0
local nready = redis.call('SCARD', KEYS[2])
local full = 0
local ids
if since > 0 and since >= reset and since <= version then
  ids = redis.call('ZRANGEBYSCORE', KEYS[4], '(' .. since, '+inf')
  if most > 0 and #ids > most then ids = nil end
end
if not ids then
  if most > 0 and nready > most then
    full, ids = 2, redis.call('SRANDMEMBER', KEYS[2], most)
  else
    full, ids = 1, redis.call('SMEMBERS', KEYS[2])
  end
end
local agents, gone = {}, {}
for _, id in ipairs(ids) do
  -- the set is kept exact by the scripts; the state is checked again all the same
  local v = (full > 0 or redis.call('SISMEMBER', KEYS[2], id) == 1) and
            redis.call('HMGET', ARGV[3] .. id, unpack(AGENT_FIELDS))
  if v and v[2] == 'available' and (tonumber(v[3]) or 0) == 0 then
    v[1] = id
    for i = 2, #AGENT_FIELDS do v[i] = v[i] or '' end
    agents[#agents + 1] = table.concat(v, '\0')
  else
    gone[#gone + 1] = id
  end
end
local tasks = {}
if nready > 0 then
  local head = math.min(tonumber(ARGV[1]), 64 + 4 * nready)
  for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, head - 1)) do
    local t = redis.call('HMGET', ARGV[2] .. id, 'channel', 'priority', 'arrived', 'order',
                         'lang', 'refused', 'not_before', 'need', 'state')
    if t[9] == 'queued' then
      tasks[#tasks + 1] = table.concat({id, t[1] or '', t[2] or '0', t[3] or '', t[4] or '',
                                        t[5] or '', t[6] or '{}', t[7] or '0', t[8] or ''}, '\0')
    end
  end
end
return {tasks, agents, gone, version, full, nready}

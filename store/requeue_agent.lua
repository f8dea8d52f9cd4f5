#!lua
-- requeue_agent.lua: an agent stayed disconnected past the grace period:
-- it goes offline and every task it held (offered or assigned, chats with
-- their history) goes back to its queue at the same place in line.
-- KEYS[1] agent hash, KEYS[2] agent tasks set, KEYS[3] offers zset,
-- KEYS[4] disconnected zset, KEYS[5] routing events, KEYS[6] chat events,
-- KEYS[7] the agent's connections zset, KEYS[8] the ready agents set, KEYS[9] the queues'
-- live counts
-- ARGV[1] agent id, ARGV[2] now ms, ARGV[3] grace ms, ARGV[4] the task key prefix
-- (ctx:{r}:task:), ARGV[5] the queue key prefix (ctx:{r}:queue:, a queue's line is
-- <prefix><queue>:waiting, its arrivals <prefix><queue>:arrivals)
-- The tasks are named by the agent's set and their queues by the tasks, so their keys
-- are built here, in the slot of KEYS (store/KEYS.md).
-- Returns how many tasks were re-queued, or -1 if the agent came back.
--!include ready_sync
local since = redis.call('ZSCORE', KEYS[4], ARGV[1])
if not since or redis.call('ZCARD', KEYS[7]) > 0 then
  redis.call('ZREM', KEYS[4], ARGV[1])
  return -1
end
if tonumber(since) + tonumber(ARGV[3]) > tonumber(ARGV[2]) then return -1 end
local n = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local tk = ARGV[4] .. id
  local t = redis.call('HMGET', tk, 'state', 'agent', 'queue', 'order', 'channel', 'arrived')
  if (t[1] == 'offered' or t[1] == 'assigned') and t[2] == ARGV[1] then
    -- earlier refusals no longer hold: the situation changed
    redis.call('HSET', tk, 'state', 'queued', 'agent', '', 'refused', '{}')
    redis.call('ZREM', KEYS[3], id)
    redis.call('ZADD', ARGV[5] .. t[3] .. ':waiting', t[4], id)
    redis.call('ZADD', ARGV[5] .. t[3] .. ':arrivals', t[6] or ARGV[2], id)
    redis.call('HINCRBY', KEYS[9], t[3] .. ':' .. t[1], -1)
    redis.call('XADD', KEYS[5], 'MAXLEN', '~', 1000000, '*', 'type', 'requeued', 'task', id,
               'agent', ARGV[1], 'queue', t[3], 'at', ARGV[2])
    if t[5] == 'chat' and t[1] == 'assigned' then
      redis.call('XADD', KEYS[6], 'MAXLEN', '~', 100000, '*', 'task', id, 'type', 'agent_left')
    end
    n = n + 1
  end
end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'state', 'offline', 'offers', 0, 'load:social', 0, 'load:chat', 0,
           'load:callback', 0, 'idle_since', ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[1])
if redis.call('SREM', KEYS[8], ARGV[1]) == 1 then agents_changed(KEYS[8], {ARGV[1]}) end
redis.call('XADD', KEYS[5], 'MAXLEN', '~', 1000000, '*', 'type', 'agent_offline', 'agent', ARGV[1],
           'requeued', n, 'at', ARGV[2])
return n

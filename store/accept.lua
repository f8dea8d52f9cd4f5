#!lua
-- accept.lua: an agent accepts the task offered to it.
-- KEYS[1] task hash, KEYS[2] agent hash, KEYS[3] offers zset, KEYS[4] routing events,
-- KEYS[5] agent events, KEYS[6] queue stats hash, KEYS[7] chat events,
-- KEYS[8] the ready agents set, KEYS[9] the agents set, KEYS[10] the queues' live counts
-- ARGV[1] task id, ARGV[2] agent id, ARGV[3] now ms, ARGV[4] agent's display name
-- Returns 1, or the error NOT_OFFERED.
--!include ready_sync
local t = redis.call('HMGET', KEYS[1], 'state', 'agent', 'arrived', 'sla_due', 'channel', 'queue')
if t[1] ~= 'offered' or t[2] ~= ARGV[2] then
  return redis.error_reply('NOT_OFFERED this task is not offered to you')
end
local now = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'state', 'assigned', 'answered', ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HINCRBY', KEYS[10], t[6] .. ':offered', -1)
redis.call('HINCRBY', KEYS[10], t[6] .. ':assigned', 1)
-- what the ready set's rule reads, as it is once the offer is taken: no offer held. The
-- agent is in the agents set (it holds the task), so that is not asked.
local a = redis.call('HMGET', KEYS[2], unpack(READY_FIELDS))
a[2] = 0
redis.call('HSET', KEYS[2], 'offers', 0, 'noanswer', 0)
ready_sync(KEYS[2], ARGV[2], KEYS[8], nil, a)
-- the queue's figures: one read and one write rather than an HINCRBY each (integers, so
-- written with %d: a Lua number would go as %.14g)
local wait = now - (tonumber(t[3]) or now)
local f = redis.call('HMGET', KEYS[6], 'answered', 'wait_ms', 'answered_in_sla')
local in_sla = now <= (tonumber(t[4]) or 0) and 1 or 0
redis.call('HSET', KEYS[6], 'answered', string.format('%d', (tonumber(f[1]) or 0) + 1),
           'wait_ms', string.format('%d', (tonumber(f[2]) or 0) + wait),
           'answered_in_sla', string.format('%d', (tonumber(f[3]) or 0) + in_sla))
redis.call('XADD', KEYS[4], 'MAXLEN', '~', 1000000, '*', 'type', 'accepted', 'task', ARGV[1],
           'agent', ARGV[2], 'queue', t[6], 'wait_ms', wait, 'at', ARGV[3])
redis.call('XADD', KEYS[5], 'MAXLEN', '~', 100000, '*', 'agent', ARGV[2], 'type', 'assigned',
           'task', ARGV[1])
if t[5] == 'chat' then
  redis.call('XADD', KEYS[7], 'MAXLEN', '~', 100000, '*', 'task', ARGV[1],
             'type', 'agent_joined', 'name', ARGV[4])
end
return 1

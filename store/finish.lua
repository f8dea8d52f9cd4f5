#!lua
-- finish.lua: an agent is done with an assigned task, or transfers it.
-- KEYS[1] task hash, KEYS[2] agent hash, KEYS[3] agent tasks set, KEYS[4] routing events,
-- KEYS[5] agent events, KEYS[6] chat events, KEYS[7] wrap-ups zset,
-- KEYS[8] waiting zset of the queue to transfer to (transfers only), KEYS[10] the ready
-- agents set, KEYS[11] the agents set, KEYS[12] the queues' live counts, KEYS[13] the arrivals
-- zset of the queue to transfer to (transfers only)
-- ARGV[1] task id, ARGV[2] agent id, ARGV[3] now ms, ARGV[4] 'done' or 'transferred',
-- ARGV[5] wrap-up seconds (done), ARGV[6] queue to transfer to, ARGV[7] its order score,
-- ARGV[8] ms a done task is kept, with KEYS[9], its chat messages list (absent or 0: for ever)
-- Returns 1, or the error NOT_ASSIGNED.
--!include ready_sync
local t = redis.call('HMGET', KEYS[1], 'state', 'agent', 'channel', 'queue', 'arrived')
if t[1] ~= 'assigned' or t[2] ~= ARGV[2] then
  return redis.error_reply('NOT_ASSIGNED this task is not assigned to you')
end
local now = tonumber(ARGV[3])
redis.call('HINCRBY', KEYS[2], 'load:' .. t[3], -1)
redis.call('HINCRBY', KEYS[12], t[4] .. ':assigned', -1)
redis.call('SREM', KEYS[3], ARGV[1])
if redis.call('SCARD', KEYS[3]) == 0 then redis.call('HSET', KEYS[2], 'idle_since', ARGV[3]) end
if ARGV[4] == 'transferred' then
  redis.call('HSET', KEYS[1], 'state', 'queued', 'agent', '', 'queue', ARGV[6],
             'order', ARGV[7], 'refused', '{}')
  redis.call('ZADD', KEYS[8], ARGV[7], ARGV[1])
  redis.call('ZADD', KEYS[13], t[5] or ARGV[3], ARGV[1])
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', 1000000, '*', 'type', 'transferred', 'task', ARGV[1],
             'agent', ARGV[2], 'queue', t[4], 'to', ARGV[6], 'at', ARGV[3])
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', 100000, '*', 'agent', ARGV[2], 'type', 'revoked',
             'task', ARGV[1], 'reason', 'transferred')
  ready_sync(KEYS[2], ARGV[2], KEYS[10], KEYS[11])
  return 1
end
redis.call('HSET', KEYS[1], 'state', 'done', 'finished', ARGV[3])
if tonumber(ARGV[8] or '0') > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[8])
  redis.call('PEXPIRE', KEYS[9], ARGV[8])
end
redis.call('HINCRBY', KEYS[2], 'handled', 1)
local wrap = tonumber(ARGV[5]) or 0
if wrap > 0 and redis.call('HGET', KEYS[2], 'state') == 'available' then
  local untl = now + math.floor(wrap * 1000)
  redis.call('HSET', KEYS[2], 'state', 'wrapup', 'wrapup_until', untl)
  redis.call('ZADD', KEYS[7], untl, ARGV[2])
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', 100000, '*', 'agent', ARGV[2], 'type', 'state',
             'state', 'wrapup', 'until', untl)
end
-- its load went down (room again, maybe) or it went into wrap-up: the ready set and the
-- routers' copies of it follow
ready_sync(KEYS[2], ARGV[2], KEYS[10], KEYS[11])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', 1000000, '*', 'type', 'done', 'task', ARGV[1],
           'agent', ARGV[2], 'queue', t[4], 'at', ARGV[3])
if t[3] == 'chat' then
  redis.call('XADD', KEYS[6], 'MAXLEN', '~', 100000, '*', 'task', ARGV[1], 'type', 'closed')
end
return 1

#!lua
-- abandon.lua: the customer left (closed the chat) before the end.
-- KEYS[1] task hash, KEYS[2] offers zset, KEYS[3] routing events, KEYS[4] agent events,
-- KEYS[5] queue stats hash, KEYS[6] waiting zset of the task's queue, KEYS[7] hash and
-- KEYS[8] tasks set of the agent offered the task
-- ARGV[1] task id, ARGV[2] now ms, ARGV[3] the task's queue and ARGV[4] its agent, as read
-- just before (KEYS[6..8] are named from them): if they changed, the error STALE, and
-- the caller reads them again; ARGV[5] ms an abandoned task is kept, with KEYS[9], its chat
-- messages list (absent or 0: for ever); KEYS[10] the ready agents set, KEYS[11] the agents set,
-- KEYS[12] the queues' live counts, KEYS[13] the arrivals zset of the task's queue
-- Queued or offered: the task is abandoned (counted). Assigned: it stays
-- with the agent, who is told the customer left, and finishes it with done.
-- New (a web chat the customer never wrote in: never queued, never counted
-- as arrived): it is closed, not counted.
--!include ready_sync
local function ended()
  if tonumber(ARGV[5] or '0') > 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[5])
    redis.call('PEXPIRE', KEYS[9], ARGV[5])
  end
end
local t = redis.call('HMGET', KEYS[1], 'state', 'agent', 'queue', 'channel')
if not t[1] then return 0 end
if t[1] == 'new' then
  redis.call('HSET', KEYS[1], 'state', 'abandoned', 'finished', ARGV[2])
  ended()
  return 1
end
if t[1] == 'queued' or t[1] == 'offered' then
  if t[3] ~= ARGV[3] or (t[1] == 'offered' and t[2] ~= ARGV[4]) then
    return redis.error_reply('STALE the task moved since it was read')
  end
  redis.call('ZREM', KEYS[6], ARGV[1])
  redis.call('ZREM', KEYS[13], ARGV[1])
  if t[1] == 'offered' then
    redis.call('ZREM', KEYS[2], ARGV[1])
    redis.call('HINCRBY', KEYS[12], t[3] .. ':offered', -1)
    redis.call('HSET', KEYS[7], 'offers', 0)
    redis.call('HINCRBY', KEYS[7], 'load:' .. t[4], -1)
    redis.call('SREM', KEYS[8], ARGV[1])
    ready_sync(KEYS[7], t[2], KEYS[10], KEYS[11])
    redis.call('XADD', KEYS[4], 'MAXLEN', '~', 100000, '*', 'agent', t[2], 'type', 'revoked',
               'task', ARGV[1], 'reason', 'abandoned')
  end
  redis.call('HSET', KEYS[1], 'state', 'abandoned', 'finished', ARGV[2])
  ended()
  redis.call('HINCRBY', KEYS[5], 'abandoned', 1)
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', 1000000, '*', 'type', 'abandoned', 'task', ARGV[1],
             'queue', t[3], 'at', ARGV[2])
  return 1
end
if t[1] == 'assigned' then
  redis.call('HSET', KEYS[1], 'customer_left', ARGV[2])
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', 100000, '*', 'agent', t[2], 'type', 'customer_left',
             'task', ARGV[1])
end
return 0

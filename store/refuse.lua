#!lua
-- refuse.lua: an offer ends without an accept -- rejected by the agent, or
-- timed out. The task goes back to its queue at the same place in line (its
-- stored order score), and the agent is remembered as having refused it.
-- KEYS[1] task hash, KEYS[2] agent hash, KEYS[3] offers zset, KEYS[4] waiting zset,
-- KEYS[5] agent tasks set, KEYS[6] routing events, KEYS[7] agent events,
-- KEYS[8] the ready agents set, KEYS[9] the agents set, KEYS[10] the queues' live counts,
-- KEYS[11] the arrivals zset of the task's queue
-- ARGV[1] task id, ARGV[2] agent id, ARGV[3] now ms, ARGV[4] 'rejected' or 'timed_out',
-- ARGV[5] max offers timed out in a row before the agent is set away
-- Returns 1, 2 (and the agent was set away), or the error NOT_OFFERED.
--!include ready_sync
local t = redis.call('HMGET', KEYS[1], 'state', 'agent', 'channel', 'order', 'refused', 'queue',
                     'arrived')
if t[1] ~= 'offered' or t[2] ~= ARGV[2] then
  return redis.error_reply('NOT_OFFERED this task is not offered to you')
end
local refused = cjson.decode(t[5] or '{}')
refused[ARGV[2]] = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'state', 'queued', 'agent', '', 'refused', cjson.encode(refused))
redis.call('HDEL', KEYS[1], 'offer_expires')
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], t[4], ARGV[1])
redis.call('ZADD', KEYS[11], t[7] or ARGV[3], ARGV[1])
redis.call('HINCRBY', KEYS[10], t[6] .. ':offered', -1)
redis.call('HSET', KEYS[2], 'offers', 0)
redis.call('HINCRBY', KEYS[2], 'load:' .. t[3], -1)
redis.call('SREM', KEYS[5], ARGV[1])
if redis.call('SCARD', KEYS[5]) == 0 then redis.call('HSET', KEYS[2], 'idle_since', ARGV[3]) end
redis.call('XADD', KEYS[6], 'MAXLEN', '~', 1000000, '*', 'type', ARGV[4], 'task', ARGV[1],
           'agent', ARGV[2], 'queue', t[6], 'at', ARGV[3])
local r = 1
if ARGV[4] == 'timed_out' then
  redis.call('XADD', KEYS[7], 'MAXLEN', '~', 100000, '*', 'agent', ARGV[2], 'type', 'revoked',
             'task', ARGV[1], 'reason', 'timed_out')
  local n = redis.call('HINCRBY', KEYS[2], 'noanswer', 1)
  if n >= tonumber(ARGV[5]) then
    redis.call('HSET', KEYS[2], 'state', 'away', 'noanswer', 0)
    redis.call('XADD', KEYS[7], 'MAXLEN', '~', 100000, '*', 'agent', ARGV[2], 'type', 'state',
               'state', 'away', 'reason', 'offers timed out')
    r = 2
  end
else
  redis.call('HSET', KEYS[2], 'noanswer', 0)
end
ready_sync(KEYS[2], ARGV[2], KEYS[8], KEYS[9])
return r

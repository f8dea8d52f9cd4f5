-- abandon.lua: the customer left (closed the chat) before the end.
-- KEYS[1] task hash, KEYS[2] offers zset, KEYS[3] routing events, KEYS[4] agent events,
-- KEYS[5] queue stats hash
-- ARGV[1] task id, ARGV[2] now ms
-- Queued or offered: the task is abandoned (counted). Assigned: it stays
-- with the agent, who is told the customer left, and finishes it with done.
-- New (a web chat the customer never wrote in: never queued, never counted
-- as arrived): it is closed, not counted.
local t = redis.call('HMGET', KEYS[1], 'state', 'agent', 'queue', 'channel')
if not t[1] then return 0 end
if t[1] == 'new' then
  redis.call('HSET', KEYS[1], 'state', 'abandoned', 'finished', ARGV[2])
  return 1
end
if t[1] == 'queued' or t[1] == 'offered' then
  redis.call('ZREM', 'ctx:queue:' .. t[3] .. ':waiting', ARGV[1])
  if t[1] == 'offered' then
    local ak = 'ctx:agent:' .. t[2]
    redis.call('ZREM', KEYS[2], ARGV[1])
    redis.call('HSET', ak, 'offers', 0)
    redis.call('HINCRBY', ak, 'load:' .. t[4], -1)
    redis.call('SREM', ak .. ':tasks', ARGV[1])
    redis.call('XADD', KEYS[4], 'MAXLEN', '~', 100000, '*', 'agent', t[2], 'type', 'revoked',
               'task', ARGV[1], 'reason', 'abandoned')
  end
  redis.call('HSET', KEYS[1], 'state', 'abandoned', 'finished', ARGV[2])
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

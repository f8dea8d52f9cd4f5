-- presence.lua: an agent's websocket connects or disconnects on a node.
-- KEYS[1] agent hash, KEYS[2] disconnected zset (agent -> ms), KEYS[3] routing events
-- ARGV[1] agent id, ARGV[2] +1 (connect) or -1 (disconnect), ARGV[3] now ms
-- On connect an offline agent becomes 'away' (it says when it is available);
-- when its last connection drops it enters the grace period: the router
-- re-queues its tasks if it has not come back by then (requeue_agent.lua).
-- Returns the number of open connections.
local n = redis.call('HINCRBY', KEYS[1], 'conns', tonumber(ARGV[2]))
if n < 0 then
  redis.call('HSET', KEYS[1], 'conns', 0)
  n = 0
end
if tonumber(ARGV[2]) > 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  if redis.call('HGET', KEYS[1], 'state') == 'offline' then
    redis.call('HSET', KEYS[1], 'state', 'away')
  end
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', 1000000, '*', 'type', 'agent_connected',
             'agent', ARGV[1], 'at', ARGV[3])
elseif n == 0 then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', 1000000, '*', 'type', 'agent_disconnected',
             'agent', ARGV[1], 'at', ARGV[3])
end
return n

#!lua
-- presence.lua: an agent's websocket connects, beats, or disconnects.
-- KEYS[1] agent hash, KEYS[2] disconnected zset (agent -> ms), KEYS[3] routing events,
-- KEYS[4] the agent's connections (zset: connection id -> last heartbeat ms)
-- ARGV[1] agent id, ARGV[2] 'connect' | 'beat' | 'disconnect', ARGV[3] now ms,
-- ARGV[4] connection id (node name and a number), ARGV[5] ms after which a silent
-- connection counts as gone (its node died)
-- Connections are entries with a heartbeat, not a counter: a node that dies
-- leaves entries that go stale, and the router (presence_sweep.lua) treats
-- them as disconnected, so an agent's tasks never stay with a dead node.
-- On connect an offline agent becomes 'away' (it says when it is available);
-- when its last connection goes it enters the grace period: the router
-- re-queues its tasks if it has not come back by then (requeue_agent.lua).
-- Returns the number of live connections.
local now = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - tonumber(ARGV[5]))
if ARGV[2] == 'beat' then
  redis.call('ZADD', KEYS[4], 'XX', now, ARGV[4])
  return redis.call('ZCARD', KEYS[4])
end
if ARGV[2] == 'connect' then
  redis.call('ZADD', KEYS[4], now, ARGV[4])
  redis.call('ZREM', KEYS[2], ARGV[1])
  if redis.call('HGET', KEYS[1], 'state') == 'offline' then
    redis.call('HSET', KEYS[1], 'state', 'away')
  end
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', 1000000, '*', 'type', 'agent_connected',
             'agent', ARGV[1], 'at', ARGV[3])
  return redis.call('ZCARD', KEYS[4])
end
redis.call('ZREM', KEYS[4], ARGV[4])
local n = redis.call('ZCARD', KEYS[4])
if n == 0 and not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', 1000000, '*', 'type', 'agent_disconnected',
             'agent', ARGV[1], 'at', ARGV[3])
end
return n

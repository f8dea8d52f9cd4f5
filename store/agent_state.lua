#!lua
-- agent_state.lua: an agent sets its state (available or away), or the
-- router ends a wrap-up whose time is up ('wrapup-end').
-- KEYS[1] agent hash, KEYS[2] agent events, KEYS[3] routing events, KEYS[4] wrap-ups zset,
-- KEYS[5] the agent's connections zset, KEYS[6] the ready agents set, KEYS[7] the agents set
-- ARGV[1] agent id, ARGV[2] 'available' | 'away' | 'wrapup-end', ARGV[3] now ms
-- Returns the agent's state afterwards.
--!include ready_sync
local st = redis.call('HGET', KEYS[1], 'state')
if not st then
  -- deleted (ctxctl agent del) while in wrap-up: out of the wrap-ups, or the
  -- router would end its wrap-up again on every tick
  redis.call('ZREM', KEYS[4], ARGV[1])
  if redis.call('SREM', KEYS[6], ARGV[1]) == 1 then agents_changed(KEYS[6], {ARGV[1]}) end
  return redis.error_reply('NOAGENT no such agent')
end
local want = ARGV[2]
if want == 'wrapup-end' then
  local untl = tonumber(redis.call('HGET', KEYS[1], 'wrapup_until') or '0')
  if st ~= 'wrapup' or untl > tonumber(ARGV[3]) then
    redis.call('ZREM', KEYS[4], ARGV[1])
    return st
  end
  want = 'available'
end
if st == 'offline' and redis.call('ZCARD', KEYS[5]) == 0 then
  return redis.error_reply('OFFLINE the agent is not connected')
end
redis.call('HSET', KEYS[1], 'state', want)
if want == 'available' then redis.call('HSET', KEYS[1], 'noanswer', 0) end
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('HDEL', KEYS[1], 'wrapup_until')
ready_sync(KEYS[1], ARGV[1], KEYS[6], KEYS[7])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', 100000, '*', 'agent', ARGV[1], 'type', 'state',
           'state', want)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', 1000000, '*', 'type', 'agent_state', 'agent', ARGV[1],
           'state', want, 'at', ARGV[3])
return want

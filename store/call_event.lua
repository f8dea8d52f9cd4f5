#!lua
-- call_event.lua: a call's state changes (the agent's phone rings, the agent answers
-- and the customer is dialled, the customer's phone rings, they talk).
-- KEYS[1] task hash, KEYS[2] agent events
-- ARGV[1] task id, ARGV[2] the call's id, ARGV[3] state (dialing, ringing, talking),
-- ARGV[4] leg (agent, customer), ARGV[5] now ms
-- Returns 1, or 0 when the task holds another call (or none): a late event of a call
-- that ended.
local t = redis.call('HMGET', KEYS[1], 'call_id', 'agent', 'call_state')
if t[1] ~= ARGV[2] or t[3] == 'ended' then return 0 end
redis.call('HSET', KEYS[1], 'call_state', ARGV[3], 'call_leg', ARGV[4], 'call_since', ARGV[5])
if ARGV[3] == 'talking' then redis.call('HSET', KEYS[1], 'talk_start', ARGV[5]) end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', 100000, '*', 'agent', t[2], 'type', 'call',
           'task', ARGV[1], 'state', ARGV[3], 'leg', ARGV[4], 'since', ARGV[5])
return 1

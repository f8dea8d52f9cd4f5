#!lua
-- call_start.lua: a dialer takes a callback task's call: the one step that makes
-- sure one call at a time is placed for a task, whatever number of dialers run.
-- KEYS[1] task hash, KEYS[2] agent events, KEYS[3] call stats hash
-- ARGV[1] task id, ARGV[2] now ms, ARGV[3] the call's id (unique), ARGV[4] the dialer
-- taking it (its consumer name), ARGV[5] the agent asking ('' : whoever holds the task)
-- Returns {attempt, agent, queue, phone}, or the errors NOT_ASSIGNED (not an assigned
-- callback, or not this agent's), IN_CALL (a call is in progress), NO_PHONE.
local t = redis.call('HMGET', KEYS[1], 'state', 'agent', 'channel', 'call_state', 'queue',
                     'phone')
if t[1] ~= 'assigned' or t[3] ~= 'callback' or (ARGV[5] ~= '' and t[2] ~= ARGV[5]) then
  return redis.error_reply('NOT_ASSIGNED this callback is not assigned' ..
                           (ARGV[5] ~= '' and ' to you' or ''))
end
if t[4] == 'dialing' or t[4] == 'ringing' or t[4] == 'talking' then
  return redis.error_reply('IN_CALL a call is in progress for this task')
end
if not t[6] or t[6] == '' then return redis.error_reply('NO_PHONE the task has no phone') end
local n = redis.call('HINCRBY', KEYS[1], 'call_attempts', 1)
redis.call('HSET', KEYS[1], 'call_id', ARGV[3], 'call_state', 'dialing', 'call_leg', 'agent',
           'call_since', ARGV[2], 'call_owner', ARGV[4], 'call_reason', '', 'talk_start', '')
redis.call('HINCRBY', KEYS[3], 'placed', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', 100000, '*', 'agent', t[2], 'type', 'call',
           'task', ARGV[1], 'state', 'dialing', 'leg', 'agent', 'since', ARGV[2],
           'attempt', n)
return {n, t[2], t[5], t[6]}

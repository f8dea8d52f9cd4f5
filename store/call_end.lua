#!lua
-- call_end.lua: a call ended; its outcome is kept on the task, and the task stays
-- with its agent, goes back to its queue at its place for a retry, or is abandoned.
-- KEYS[1] task hash, KEYS[2] agent hash, KEYS[3] agent tasks set, KEYS[4] waiting zset
-- of the task's queue, KEYS[5] routing events, KEYS[6] agent events, KEYS[7] queue
-- stats hash, KEYS[8] call stats hash, KEYS[9] the ready agents set, KEYS[10] the agents
-- set, KEYS[11] the queues' live counts, KEYS[12] the arrivals zset of the task's queue
-- ARGV[1] task id, ARGV[2] the call's id, ARGV[3] now ms, ARGV[4] outcome (answered,
-- busy, no_answer, rejected, failed, agent_failed, cancelled), ARGV[5] reason (the
-- engine's words), ARGV[6] keep | retry | abandon, ARGV[7] not_before ms (retry),
-- ARGV[8] talk ms (answered), ARGV[9] ms an abandoned task is kept (0: for ever),
-- ARGV[10] the queue the caller read (KEYS[4] is its line), ARGV[11] '1' when the customer
-- was never called (the agent's phone failed, or the agent hung up first): the attempt is
-- not counted
-- Returns the task's state after ('assigned', 'queued', 'abandoned'), or 0 when the
-- task holds another call, or the error STALE when its queue changed.
--!include ready_sync
local t = redis.call('HMGET', KEYS[1], 'call_id', 'agent', 'state', 'queue', 'order',
                     'call_state', 'arrived')
if t[1] ~= ARGV[2] or t[6] == 'ended' then return 0 end
if t[4] ~= ARGV[10] then return redis.error_reply('STALE the task moved to another queue') end
local agent, now, outcome = t[2], ARGV[3], ARGV[4]
local fields = {'call_state', 'ended', 'call_since', now, 'outcome', outcome,
                'call_reason', ARGV[5]}
local talk = tonumber(ARGV[8]) or 0
if outcome == 'answered' then
  fields[#fields + 1] = 'talk_s'
  fields[#fields + 1] = string.format('%.1f', talk / 1000)
  redis.call('HINCRBY', KEYS[8], 'answered', 1)
  redis.call('HINCRBY', KEYS[8], 'talk_ms', talk)
else
  redis.call('HINCRBY', KEYS[8], 'failed:' .. outcome, 1)
end
redis.call('HSET', KEYS[1], unpack(fields))
if ARGV[11] == '1' then redis.call('HINCRBY', KEYS[1], 'call_attempts', -1) end
local ev = {'agent', agent, 'type', 'call', 'task', ARGV[1], 'state', 'ended',
            'outcome', outcome, 'reason', ARGV[5], 'since', now}
if outcome == 'answered' then ev[#ev + 1] = 'talk_s'; ev[#ev + 1] = fields[#fields] end
redis.call('XADD', KEYS[6], 'MAXLEN', '~', 100000, '*', unpack(ev))
local action = ARGV[6]
if action == 'keep' or t[3] ~= 'assigned' then return t[3] end
-- the agent lets the task go (as finish.lua does)
redis.call('HINCRBY', KEYS[2], 'load:callback', -1)
redis.call('HINCRBY', KEYS[11], t[4] .. ':assigned', -1)
redis.call('SREM', KEYS[3], ARGV[1])
if redis.call('SCARD', KEYS[3]) == 0 then redis.call('HSET', KEYS[2], 'idle_since', now) end
ready_sync(KEYS[2], agent, KEYS[9], KEYS[10])
redis.call('XADD', KEYS[6], 'MAXLEN', '~', 100000, '*', 'agent', agent, 'type', 'revoked',
           'task', ARGV[1], 'reason', action == 'retry' and 'retry' or outcome)
if action == 'retry' then
  -- back at its place: the order score it had, due at not_before
  redis.call('HSET', KEYS[1], 'state', 'queued', 'agent', '', 'not_before', ARGV[7],
             'refused', '{}')
  redis.call('ZADD', KEYS[4], t[5], ARGV[1])
  redis.call('ZADD', KEYS[12], t[7] or now, ARGV[1])
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', 1000000, '*', 'type', 'requeued', 'task', ARGV[1],
             'queue', t[4], 'reason', outcome, 'not_before', ARGV[7], 'at', now)
  return 'queued'
end
redis.call('HSET', KEYS[1], 'state', 'abandoned', 'finished', now, 'agent', '',
           'abandon_reason', outcome)
if tonumber(ARGV[9]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[9]) end
redis.call('HINCRBY', KEYS[7], 'abandoned', 1)
redis.call('XADD', KEYS[5], 'MAXLEN', '~', 1000000, '*', 'type', 'abandoned', 'task', ARGV[1],
           'queue', t[4], 'reason', outcome, 'at', now)
return 'abandoned'

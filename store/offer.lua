#!lua
-- offer.lua: offer queued tasks to agents -- the decide-and-assign step, for
-- every pair one routing pass decided on a queue, in one call.
-- The router decided from a snapshot; this re-checks everything each decision
-- rests on, atomically, so two routers can never offer one task twice nor
-- push an agent past its capacity. A pair that no longer holds is skipped;
-- the pairs after it are still tried.
-- What one pair writes to a key the other pairs share (the arrivals, the offers, the live
-- count, the ready set and its change log) is gathered and written once at the end: a
-- routing pass offers a few hundred pairs, and each redis.call costs more than its command.
-- KEYS[1] waiting zset, KEYS[2] offers zset, KEYS[3] routing events, KEYS[4] agent events,
-- KEYS[5] ready agents set, KEYS[6] the queues' live counts, KEYS[7] the queue's arrivals zset,
-- then for the i-th pair (i from 0) KEYS[8 + 3i] the task hash, KEYS[9 + 3i] the agent hash,
-- KEYS[10 + 3i] the agent's tasks set
-- ARGV[1] now ms, ARGV[2] offer expiry ms, ARGV[3] how long a refusal holds, ms,
-- ARGV[4 + 2i] the i-th task id, ARGV[5 + 2i] the i-th agent id
-- Returns one {1, 'offered'} or {0, the reason the offer no longer holds} per pair.
--!include ready_sync
local now, hold = tonumber(ARGV[1]), tonumber(ARGV[3])
local queue          -- every task of the call is of the line KEYS[1], so of one queue
local offered, agents, expiring = {}, {}, {}

local function refused_lately(refused, agent)
  -- most tasks were never refused: no JSON to decode for them
  if not refused or refused == '{}' or not string.find(refused, agent, 1, true) then
    return false
  end
  local r = cjson.decode(refused)[agent]
  return r ~= nil and tonumber(r) + hold > now
end

local function offer(tk, ak, atk, task, agent)
  local t = redis.call('HMGET', tk, 'state', 'channel', 'refused', 'queue', 'attempts')
  if t[1] ~= 'queued' then return {0, 'task is ' .. tostring(t[1])} end
  local ch = t[2]
  local a = redis.call('HMGET', ak, 'state', 'offers', 'load:' .. ch, 'cap:' .. ch,
                       'load:callback', 'callback_blocks_chat')
  if a[1] ~= 'available' then return {0, 'agent is ' .. tostring(a[1])} end
  if (tonumber(a[2]) or 0) > 0 then return {0, 'agent holds an offer'} end
  if (tonumber(a[3]) or 0) >= (tonumber(a[4]) or 0) then return {0, 'agent at capacity'} end
  if ch == 'chat' and a[6] == '1' and (tonumber(a[5]) or 0) > 0 then
    return {0, 'agent is on a callback'}
  end
  if refused_lately(t[3], agent) then return {0, 'agent refused this task'} end
  -- taking it out of the line is the last check: nothing was written before it
  if redis.call('ZREM', KEYS[1], task) == 0 then return {0, 'task not in this queue'} end
  -- one write per hash: what HINCRBY would add is computed from what was read
  redis.call('HSET', tk, 'state', 'offered', 'agent', agent, 'offer_expires', ARGV[2],
             'offered_at', ARGV[1], 'attempts', (tonumber(t[5]) or 0) + 1)
  redis.call('HSET', ak, 'offers', 1, 'last_offer', ARGV[1], 'load:' .. ch,
             (tonumber(a[3]) or 0) + 1)
  redis.call('SADD', atk, task)
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', 1000000, '*', 'type', 'offered', 'task', task,
             'agent', agent, 'queue', t[4], 'at', ARGV[1])
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', 100000, '*', 'agent', agent, 'type', 'offer',
             'task', task, 'expires', ARGV[2])
  queue = t[4]
  offered[#offered + 1] = task
  agents[#agents + 1] = agent
  expiring[#expiring + 1] = ARGV[2]
  expiring[#expiring + 1] = task
  return {1, 'offered'}
end

local out = {}
for i = 0, (#ARGV - 3) / 2 - 1 do
  out[i + 1] = offer(KEYS[8 + 3 * i], KEYS[9 + 3 * i], KEYS[10 + 3 * i], ARGV[4 + 2 * i],
                     ARGV[5 + 2 * i])
end
if #offered > 0 then
  redis.call('ZREM', KEYS[7], unpack(offered))
  redis.call('ZADD', KEYS[2], unpack(expiring))
  redis.call('HINCRBY', KEYS[6], queue .. ':offered', #offered)
  redis.call('SREM', KEYS[5], unpack(agents))   -- they hold an offer: not ready
  agents_changed(KEYS[5], agents)
end
return out

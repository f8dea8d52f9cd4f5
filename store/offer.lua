#!lua
-- offer.lua: offer queued tasks to agents -- the decide-and-assign step, for
-- every pair one routing pass decided on a queue, in one call.
-- The router decided from a snapshot; this re-checks everything each decision
-- rests on, atomically, so two routers can never offer one task twice nor
-- push an agent past its capacity. A pair that no longer holds is skipped;
-- the pairs after it are still tried.
-- KEYS[1] waiting zset, KEYS[2] offers zset, KEYS[3] routing events, KEYS[4] agent events,
-- KEYS[5] ready agents set, KEYS[6] the queues' live counts, KEYS[7] the queue's arrivals zset,
-- then for the i-th pair (i from 0) KEYS[8 + 3i] the task hash, KEYS[9 + 3i] the agent hash,
-- KEYS[10 + 3i] the agent's tasks set
-- ARGV[1] now ms, ARGV[2] offer expiry ms, ARGV[3] how long a refusal holds, ms,
-- ARGV[4 + 2i] the i-th task id, ARGV[5 + 2i] the i-th agent id
-- Returns one {1, 'offered'} or {0, the reason the offer no longer holds} per pair.
local function offer(tk, ak, atk, task, agent)
  local t = redis.call('HMGET', tk, 'state', 'channel', 'refused', 'queue', 'attempts')
  if t[1] ~= 'queued' then return {0, 'task is ' .. tostring(t[1])} end
  if not redis.call('ZSCORE', KEYS[1], task) then return {0, 'task not in this queue'} end
  local ch = t[2]
  local a = redis.call('HMGET', ak, 'state', 'offers', 'load:' .. ch, 'cap:' .. ch,
                       'load:callback', 'callback_blocks_chat')
  if a[1] ~= 'available' then return {0, 'agent is ' .. tostring(a[1])} end
  if (tonumber(a[2]) or 0) > 0 then return {0, 'agent holds an offer'} end
  if (tonumber(a[3]) or 0) >= (tonumber(a[4]) or 0) then return {0, 'agent at capacity'} end
  if ch == 'chat' and a[6] == '1' and (tonumber(a[5]) or 0) > 0 then
    return {0, 'agent is on a callback'}
  end
  local refused = cjson.decode(t[3] or '{}')
  local r = refused[agent]
  if r and tonumber(r) + tonumber(ARGV[3]) > tonumber(ARGV[1]) then
    return {0, 'agent refused this task'}
  end
  -- one write per hash: what HINCRBY would add is computed from what was read
  redis.call('HSET', tk, 'state', 'offered', 'agent', agent, 'offer_expires', ARGV[2],
             'offered_at', ARGV[1], 'attempts', (tonumber(t[5]) or 0) + 1)
  redis.call('ZREM', KEYS[1], task)
  redis.call('ZREM', KEYS[7], task)
  redis.call('HINCRBY', KEYS[6], t[4] .. ':offered', 1)
  redis.call('ZADD', KEYS[2], ARGV[2], task)
  redis.call('HSET', ak, 'offers', 1, 'last_offer', ARGV[1], 'load:' .. ch,
             (tonumber(a[3]) or 0) + 1)
  redis.call('SREM', KEYS[5], agent)   -- it holds an offer: not ready
  redis.call('SADD', atk, task)
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', 1000000, '*', 'type', 'offered', 'task', task,
             'agent', agent, 'queue', t[4], 'at', ARGV[1])
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', 100000, '*', 'agent', agent, 'type', 'offer',
             'task', task, 'expires', ARGV[2])
  return {1, 'offered'}
end
local out = {}
for i = 0, (#ARGV - 3) / 2 - 1 do
  out[i + 1] = offer(KEYS[8 + 3 * i], KEYS[9 + 3 * i], KEYS[10 + 3 * i], ARGV[4 + 2 * i],
                     ARGV[5 + 2 * i])
end
return out

#!lua
-- offer.lua: offer a queued task to an agent -- the decide-and-assign step.
-- The router decided from a snapshot; this re-checks everything the decision
-- rests on, atomically, so two routers can never offer one task twice nor
-- push an agent past its capacity.
-- KEYS[1] task hash, KEYS[2] agent hash, KEYS[3] waiting zset, KEYS[4] offers zset,
-- KEYS[5] agent tasks set, KEYS[6] routing events, KEYS[7] agent events
-- ARGV[1] task id, ARGV[2] agent id, ARGV[3] now ms, ARGV[4] offer expiry ms,
-- ARGV[5] how long a refusal holds, ms
-- Returns 1, or 0 and the reason the offer no longer holds.
local t = redis.call('HMGET', KEYS[1], 'state', 'channel', 'refused', 'queue')
if t[1] ~= 'queued' then return {0, 'task is ' .. tostring(t[1])} end
if not redis.call('ZSCORE', KEYS[3], ARGV[1]) then return {0, 'task not in this queue'} end
local ch = t[2]
local a = redis.call('HMGET', KEYS[2], 'state', 'offers', 'load:' .. ch, 'cap:' .. ch,
                     'load:callback', 'callback_blocks_chat')
if a[1] ~= 'available' then return {0, 'agent is ' .. tostring(a[1])} end
if (tonumber(a[2]) or 0) > 0 then return {0, 'agent holds an offer'} end
if (tonumber(a[3]) or 0) >= (tonumber(a[4]) or 0) then return {0, 'agent at capacity'} end
if ch == 'chat' and a[6] == '1' and (tonumber(a[5]) or 0) > 0 then
  return {0, 'agent is on a callback'}
end
local refused = cjson.decode(t[3] or '{}')
local r = refused[ARGV[2]]
if r and tonumber(r) + tonumber(ARGV[5]) > tonumber(ARGV[3]) then
  return {0, 'agent refused this task'}
end
redis.call('HSET', KEYS[1], 'state', 'offered', 'agent', ARGV[2], 'offer_expires', ARGV[4],
           'offered_at', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
redis.call('HSET', KEYS[2], 'offers', 1, 'last_offer', ARGV[3])
redis.call('HINCRBY', KEYS[2], 'load:' .. ch, 1)
redis.call('SADD', KEYS[5], ARGV[1])
redis.call('XADD', KEYS[6], 'MAXLEN', '~', 1000000, '*', 'type', 'offered', 'task', ARGV[1],
           'agent', ARGV[2], 'queue', t[4], 'at', ARGV[3])
redis.call('XADD', KEYS[7], 'MAXLEN', '~', 100000, '*', 'agent', ARGV[2], 'type', 'offer',
           'task', ARGV[1], 'expires', ARGV[4])
return {1, 'offered'}

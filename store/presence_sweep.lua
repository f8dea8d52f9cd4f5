#!lua
-- presence_sweep.lua: connections whose node stopped beating are gone; an
-- agent left with none (and not offline) enters the grace period as if it
-- had disconnected when its last heartbeat was seen.
-- KEYS[1] agents set, KEYS[2] disconnected zset, KEYS[3] routing events, then for each
-- agent of ARGV[3..] its hash and its connections zset (KEYS[2 + 2i], KEYS[3 + 2i])
-- ARGV[1] now ms, ARGV[2] ms after which a silent connection counts as gone,
-- ARGV[3..] the agents, as read from the agents set just before (one no longer in it
-- is passed over)
-- Returns how many agents were found disconnected.
local now, stale = tonumber(ARGV[1]), tonumber(ARGV[2])
local n = 0
for i = 1, #ARGV - 2 do
  local id, ak, ck = ARGV[2 + i], KEYS[2 + 2 * i], KEYS[3 + 2 * i]
  local last = redis.call('SISMEMBER', KEYS[1], id) == 1 and
               redis.call('ZRANGE', ck, -1, -1, 'WITHSCORES') or {}
  local removed = #last > 0 and redis.call('ZREMRANGEBYSCORE', ck, '-inf', now - stale) or 0
  if removed > 0 and redis.call('ZCARD', ck) == 0 and
     redis.call('HGET', ak, 'state') ~= 'offline' and
     not redis.call('ZSCORE', KEYS[2], id) then
    local since = tonumber(last[2]) or now
    redis.call('ZADD', KEYS[2], since, id)
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', 1000000, '*', 'type', 'agent_disconnected',
               'agent', id, 'at', ARGV[1], 'reason', 'node silent')
    n = n + 1
  end
end
return n

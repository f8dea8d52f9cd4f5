-- presence_sweep.lua: connections whose node stopped beating are gone; an
-- agent left with none (and not offline) enters the grace period as if it
-- had disconnected when its last heartbeat was seen.
-- KEYS[1] agents set, KEYS[2] disconnected zset, KEYS[3] routing events
-- ARGV[1] now ms, ARGV[2] ms after which a silent connection counts as gone
-- Returns how many agents were found disconnected.
local now, stale = tonumber(ARGV[1]), tonumber(ARGV[2])
local n = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local ck = 'ctx:agent:' .. id .. ':conns'
  local last = redis.call('ZRANGE', ck, -1, -1, 'WITHSCORES')
  local removed = redis.call('ZREMRANGEBYSCORE', ck, '-inf', now - stale)
  if removed > 0 and redis.call('ZCARD', ck) == 0 and
     redis.call('HGET', 'ctx:agent:' .. id, 'state') ~= 'offline' and
     not redis.call('ZSCORE', KEYS[2], id) then
    local since = tonumber(last[2]) or now
    redis.call('ZADD', KEYS[2], since, id)
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', 1000000, '*', 'type', 'agent_disconnected',
               'agent', id, 'at', ARGV[1], 'reason', 'node silent')
    n = n + 1
  end
end
return n

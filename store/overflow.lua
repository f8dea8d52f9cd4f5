#!lua
-- overflow.lua: tasks that waited longer than a queue's overflow_after move
-- on: to the overflow queue (keeping their order score, so their place by
-- arrival), or, with no overflow queue, up by overflow_priority levels.
-- Each task overflows once.
-- KEYS[1] waiting zset, KEYS[2] waiting zset of the overflow queue (or the same),
-- KEYS[3] routing events, KEYS[4] the stats hash of the queue, KEYS[5] that of the
-- overflow queue (or the same), KEYS[6] and KEYS[7] the arrivals zsets of the queue and of
-- the overflow queue, KEYS[7 + i] the hash of the task ARGV[5 + i]
-- A task that moves counts as overflowed_out in its queue and as arrived (and
-- overflowed_in) in the next, so that no queue answers more than arrived.
-- ARGV[1] arrived before this (ms), ARGV[2] overflow queue name ('' = none),
-- ARGV[3] priority boost, ARGV[4] what one priority level is worth in order
-- score (computed by the router from routing_order(), so it is defined once),
-- ARGV[5] now ms, ARGV[6..] the head of the line (at most 200 tasks) as read just
-- before; one no longer waiting in KEYS[1] is passed over
-- Returns how many tasks overflowed.
local n = 0
for i = 1, #ARGV - 5 do
  local id, tk = ARGV[5 + i], KEYS[7 + i]
  local t = redis.call('ZSCORE', KEYS[1], id) and
            redis.call('HMGET', tk, 'arrived', 'overflowed', 'order', 'priority', 'state',
                       'queue') or {}
  if t[5] == 'queued' and t[2] ~= '1' and tonumber(t[1] or '0') < tonumber(ARGV[1]) then
    redis.call('HSET', tk, 'overflowed', '1')
    if ARGV[2] ~= '' then
      redis.call('ZREM', KEYS[1], id)
      redis.call('ZADD', KEYS[2], t[3], id)
      redis.call('ZREM', KEYS[6], id)
      redis.call('ZADD', KEYS[7], t[1] or ARGV[5], id)
      redis.call('HSET', tk, 'queue', ARGV[2])
      redis.call('HINCRBY', KEYS[4], 'overflowed_out', 1)
      redis.call('HINCRBY', KEYS[5], 'arrived', 1)
      redis.call('HINCRBY', KEYS[5], 'overflowed_in', 1)
    elseif tonumber(ARGV[3]) > 0 then
      local unit = tonumber(ARGV[4])
      local order = tonumber(t[3]) - tonumber(ARGV[3]) * unit
      redis.call('HSET', tk, 'order', string.format('%.17g', order),
                 'priority', tonumber(t[4] or '0') + tonumber(ARGV[3]))
      redis.call('ZADD', KEYS[1], order, id)
    end
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', 1000000, '*', 'type', 'overflowed', 'task', id,
               'queue', t[6], 'to', ARGV[2], 'at', ARGV[5])
    n = n + 1
  end
end
return n

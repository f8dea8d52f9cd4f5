#!lua flags=no-writes
-- queue_stats.lua: the live figures of every queue named, read-only, at a
-- cost that grows with the number of queues, not with the tasks or agents:
-- every figure is kept by the scripts that change it (store/KEYS.md).
-- KEYS[1] the queues' live counts (hash: <queue>:offered, <queue>:assigned), then for the
-- i-th queue its stats hash KEYS[3i - 1], its waiting zset KEYS[3i] and its arrivals zset
-- KEYS[3i + 1]
-- ARGV[1..] the queue names, in the order of their keys
-- Returns one flat field list per queue: its stats hash (arrived, answered,
-- answered_in_sla, wait_ms, abandoned), then waiting, oldest (the arrival ms
-- of the task waiting longest), offered and assigned.
local out = {}
for i = 1, #ARGV do
  local q = ARGV[i]
  local r = redis.call('HGETALL', KEYS[3 * i - 1])
  r[#r + 1] = 'waiting'; r[#r + 1] = tostring(redis.call('ZCARD', KEYS[3 * i]))
  local first = redis.call('ZRANGE', KEYS[3 * i + 1], 0, 0, 'WITHSCORES')
  r[#r + 1] = 'oldest'; r[#r + 1] = first[2] or '0'
  local live = redis.call('HMGET', KEYS[1], q .. ':offered', q .. ':assigned')
  r[#r + 1] = 'offered'; r[#r + 1] = live[1] or '0'
  r[#r + 1] = 'assigned'; r[#r + 1] = live[2] or '0'
  out[i] = r
end
return out

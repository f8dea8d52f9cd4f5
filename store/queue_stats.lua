-- queue_stats.lua: the live figures of every queue named, read-only.
-- KEYS[1] offers zset; ARGV queue names
-- Returns one flat field list per queue: its stats hash (arrived, answered,
-- answered_in_sla, wait_ms, abandoned), then waiting, oldest (the arrival ms
-- of the task at the head), offered and assigned (counted from the tasks
-- on offer and the agents' task sets).
local offered, assigned = {}, {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local q = redis.call('HGET', 'ctx:task:' .. id, 'queue')
  if q then offered[q] = (offered[q] or 0) + 1 end
end
for _, a in ipairs(redis.call('SMEMBERS', 'ctx:agents')) do
  for _, id in ipairs(redis.call('SMEMBERS', 'ctx:agent:' .. a .. ':tasks')) do
    local t = redis.call('HMGET', 'ctx:task:' .. id, 'queue', 'state')
    if t[2] == 'assigned' then assigned[t[1]] = (assigned[t[1]] or 0) + 1 end
  end
end
local out = {}
for i, q in ipairs(ARGV) do
  local r = redis.call('HGETALL', 'ctx:queue:' .. q .. ':stats')
  local w = 'ctx:queue:' .. q .. ':waiting'
  r[#r + 1] = 'waiting'; r[#r + 1] = tostring(redis.call('ZCARD', w))
  local oldest = 0
  local head = redis.call('ZRANGE', w, 0, -1)
  for _, id in ipairs(head) do
    local a = tonumber(redis.call('HGET', 'ctx:task:' .. id, 'arrived') or '0')
    if a > 0 and (oldest == 0 or a < oldest) then oldest = a end
  end
  r[#r + 1] = 'oldest'; r[#r + 1] = tostring(oldest)
  r[#r + 1] = 'offered'; r[#r + 1] = tostring(offered[q] or 0)
  r[#r + 1] = 'assigned'; r[#r + 1] = tostring(assigned[q] or 0)
  out[i] = r
end
return out

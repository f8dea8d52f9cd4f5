#!lua flags=no-writes
-- queue_stats.lua: the live figures of every queue named, read-only.
-- KEYS[1] offers zset, KEYS[2] agents set, then for the i-th queue its stats hash
-- KEYS[1 + 2i] and its waiting zset KEYS[2 + 2i]
-- ARGV[1] the task key prefix (ctx:{r}:task:), ARGV[2] the agent key prefix
-- (ctx:{r}:agent:; an agent's tasks set is <prefix><id>:tasks): tasks and agents are
-- named by the sets, so their keys are built here, in the slot of KEYS (store/KEYS.md)
-- ARGV[3..] the queue names, in the order of their keys
-- Returns one flat field list per queue: its stats hash (arrived, answered,
-- answered_in_sla, wait_ms, abandoned), then waiting, oldest (the arrival ms
-- of the task at the head), offered and assigned (counted from the tasks
-- on offer and the agents' task sets).
local TASK, AGENT = ARGV[1], ARGV[2]
local offered, assigned = {}, {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local q = redis.call('HGET', TASK .. id, 'queue')
  if q then offered[q] = (offered[q] or 0) + 1 end
end
for _, a in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  for _, id in ipairs(redis.call('SMEMBERS', AGENT .. a .. ':tasks')) do
    local t = redis.call('HMGET', TASK .. id, 'queue', 'state')
    if t[2] == 'assigned' then assigned[t[1]] = (assigned[t[1]] or 0) + 1 end
  end
end
local out = {}
for i = 1, #ARGV - 2 do
  local q, w = ARGV[2 + i], KEYS[2 + 2 * i]
  local r = redis.call('HGETALL', KEYS[1 + 2 * i])
  r[#r + 1] = 'waiting'; r[#r + 1] = tostring(redis.call('ZCARD', w))
  local oldest = 0
  local head = redis.call('ZRANGE', w, 0, -1)
  for _, id in ipairs(head) do
    local a = tonumber(redis.call('HGET', TASK .. id, 'arrived') or '0')
    if a > 0 and (oldest == 0 or a < oldest) then oldest = a end
  end
  r[#r + 1] = 'oldest'; r[#r + 1] = tostring(oldest)
  r[#r + 1] = 'offered'; r[#r + 1] = tostring(offered[q] or 0)
  r[#r + 1] = 'assigned'; r[#r + 1] = tostring(assigned[q] or 0)
  out[i] = r
end
return out

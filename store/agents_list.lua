#!lua flags=no-writes
-- agents_list.lua: every agent with its state, load and tasks, read-only.
-- KEYS[1] agents set
-- ARGV[1] the agent key prefix (ctx:{r}:agent:; its tasks set and connections zset are
-- <prefix><id>:tasks and :conns), ARGV[2] the task key prefix (ctx:{r}:task:): agents and
-- tasks are named by the sets, so their keys are built here, in the slot of KEYS[1]
-- (store/KEYS.md)
-- Returns one field list per agent (its hash without the token hash, plus "tasks" as a
-- JSON array of {id, state, channel}, with `call` (the call's state) and `since` (ms)
-- for a callback whose call is in progress or over).
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local h = redis.call('HGETALL', ARGV[1] .. id)
  local r = {}
  for i = 1, #h, 2 do
    if h[i] ~= 'token_sha' then r[#r + 1] = h[i]; r[#r + 1] = h[i + 1] end
  end
  local tasks = {}
  for _, t in ipairs(redis.call('SMEMBERS', ARGV[1] .. id .. ':tasks')) do
    local f = redis.call('HMGET', ARGV[2] .. t, 'state', 'channel', 'call_state', 'call_since',
                         'outcome')
    tasks[#tasks + 1] = {id = t, state = f[1], channel = f[2], call = f[3] or nil,
                         since = tonumber(f[4]) or nil, outcome = f[5] or nil}
  end
  r[#r + 1] = 'conns'
  r[#r + 1] = tostring(redis.call('ZCARD', ARGV[1] .. id .. ':conns'))
  r[#r + 1] = 'tasks'
  r[#r + 1] = (#tasks > 0) and cjson.encode(tasks) or '[]'
  out[#out + 1] = r
end
return out

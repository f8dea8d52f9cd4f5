-- agents_list.lua: every agent with its state, load and tasks, read-only.
-- KEYS[1] agents set. Returns one field list per agent (its hash without
-- the token hash, plus "tasks" as a JSON array of {id, state, channel}).
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local h = redis.call('HGETALL', 'ctx:agent:' .. id)
  local r = {}
  for i = 1, #h, 2 do
    if h[i] ~= 'token_sha' then r[#r + 1] = h[i]; r[#r + 1] = h[i + 1] end
  end
  local tasks = {}
  for _, t in ipairs(redis.call('SMEMBERS', 'ctx:agent:' .. id .. ':tasks')) do
    local f = redis.call('HMGET', 'ctx:task:' .. t, 'state', 'channel')
    tasks[#tasks + 1] = {id = t, state = f[1], channel = f[2]}
  end
  r[#r + 1] = 'conns'
  r[#r + 1] = tostring(redis.call('ZCARD', 'ctx:agent:' .. id .. ':conns'))
  r[#r + 1] = 'tasks'
  r[#r + 1] = (#tasks > 0) and cjson.encode(tasks) or '[]'
  out[#out + 1] = r
end
return out

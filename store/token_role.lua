-- token_role.lua: who a login token belongs to.
-- KEYS[1] ctx:agent-token:<sha256 of the token>
-- KEYS[2] ctx:agent-token:<sha1 of the token>: tokens made before tokens
--         were hashed with SHA-256; met once, such a token moves to KEYS[1]
--         (and the agent's token_sha with it), so it keeps working
-- Returns {agent id, role, name} or false.
local id = redis.call('GET', KEYS[1])
if not id then
  id = redis.call('GET', KEYS[2])
  if not id then return false end
  redis.call('SET', KEYS[1], id)
  redis.call('DEL', KEYS[2])
  redis.call('HSET', 'ctx:agent:' .. id, 'token_sha', string.sub(KEYS[1], 17))
end
local f = redis.call('HMGET', 'ctx:agent:' .. id, 'role', 'name')
return {id, f[1] or 'agent', f[2] or id}

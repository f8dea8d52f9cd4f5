-- token_role.lua: who a login token belongs to.
-- KEYS[1] ctx:agent-token:<sha1 of the token>
-- Returns {agent id, role, name} or false.
local id = redis.call('GET', KEYS[1])
if not id then return false end
local f = redis.call('HMGET', 'ctx:agent:' .. id, 'role', 'name')
return {id, f[1] or 'agent', f[2] or id}

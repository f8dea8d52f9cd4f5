#!lua
-- token_role.lua: who a login token belongs to.
-- KEYS[1] ctx:{r}:agent-token:<sha256 of the token>
-- KEYS[2] ctx:{r}:agent-token:<sha1 of the token>: tokens made before tokens
--         were hashed with SHA-256; met once, such a token moves to KEYS[1]
--         (and the agent's token_sha with it), so it keeps working
-- KEYS[3] the hash of the agent the token belonged to when it was read
-- ARGV[1] that agent's id ('' when the token was not found): if the token now
--         names another agent, the error STALE, and the caller reads again
-- ARGV[2] the SHA-256 of the token (the agent's token_sha)
-- Returns {agent id, role, name} or false.
local id = redis.call('GET', KEYS[1])
local old = false
if not id then
  id = redis.call('GET', KEYS[2])
  old = true
end
if (id or '') ~= ARGV[1] then
  return redis.error_reply('STALE the token changed since it was read')
end
if not id then return false end
if old then
  redis.call('SET', KEYS[1], id)
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[3], 'token_sha', ARGV[2])
end
local f = redis.call('HMGET', KEYS[3], 'role', 'name')
return {id, f[1] or 'agent', f[2] or id}

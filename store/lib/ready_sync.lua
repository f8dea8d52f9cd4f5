-- store/lib/ready_sync.lua: included by the scripts that change an agent
-- (a line `--!include ready_sync` is replaced by this file when the Makefile
-- embeds them, and by harness.lua_source() in the tests).

-- The change log of the ready agents (store/KEYS.md) is two keys named after the ready set
-- rk: <rk>:log, a hash whose `version` counts the changes (and whose `reset` is the version
-- from which the log is complete), and <rk>:changes, a zset of agent id -> the version of its
-- last change. A router keeps a copy of the ready agents and reads only the agents changed
-- since the version it saw last (route_snapshot.lua). One version per call of a script: every
-- agent it changed gets it. ids: a list of agent ids, maybe empty.
local function agents_changed(rk, ids)
  if #ids == 0 then return end
  local v = redis.call('HINCRBY', rk .. ':log', 'version', 1)
  local z = {}
  for i, id in ipairs(ids) do
    z[2 * i - 1] = v
    z[2 * i] = id
  end
  redis.call('ZADD', rk .. ':changes', unpack(z))
end

-- The rule of the ready set, on the values of an agent's hash read as
-- {state, offers, cap:social, load:social, cap:chat, load:chat, cap:callback, load:callback}:
-- available, holding no offer, room on some channel (membership of the agents set aside).
local READY_FIELDS = {'state', 'offers', 'cap:social', 'load:social', 'cap:chat', 'load:chat',
                      'cap:callback', 'load:callback'}
local function ready_rule(a)
  if a[1] ~= 'available' or (tonumber(a[2]) or 0) ~= 0 then return false end
  for i = 3, 7, 2 do
    if (tonumber(a[i]) or 0) > (tonumber(a[i + 1]) or 0) then return true end
  end
  return false
end

-- The ready set follows the agent: in it when the agent is in the agents set and the rule
-- holds, out of it otherwise; the change is logged when the agent is ready (what the routers
-- copied of it may have changed) or has just left the set. agents: the agents set, or nil
-- when the caller knows the agent is in it (it holds a task: `ctxctl agent del` refuses
-- those). a: the agent's READY_FIELDS as they are now when the caller has them, else nil
-- (read here).
local function ready_sync(ak, id, rk, agents, a)
  a = a or redis.call('HMGET', ak, unpack(READY_FIELDS))
  local ready = ready_rule(a) and (not agents or redis.call('SISMEMBER', agents, id) == 1)
  local moved = redis.call(ready and 'SADD' or 'SREM', rk, id)
  if ready or moved == 1 then agents_changed(rk, {id}) end
  return moved
end

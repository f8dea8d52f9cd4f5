-- store/lib/ready_sync.lua: included by the scripts that change an agent
-- (a line `--!include ready_sync` is replaced by this file when the Makefile
-- embeds them, and by harness.lua_source() in the tests).
-- the ready set (store/KEYS.md) follows the agent: in it when the agent is in the agents
-- set, available, holds no offer and has room on some channel; out of it otherwise
local function ready_sync(ak, id, rk, agents)
  local a = redis.call('HMGET', ak, 'state', 'offers', 'cap:social', 'load:social',
                       'cap:chat', 'load:chat', 'cap:callback', 'load:callback')
  if a[1] == 'available' and (tonumber(a[2]) or 0) == 0 and
     redis.call('SISMEMBER', agents, id) == 1 then
    for i = 3, 7, 2 do
      if (tonumber(a[i]) or 0) > (tonumber(a[i + 1]) or 0) then
        return redis.call('SADD', rk, id)
      end
    end
  end
  return redis.call('SREM', rk, id)
end

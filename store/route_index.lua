#!lua
-- route_index.lua: what the routing scripts keep so that a routing pass and
-- the queue figures cost what changed, not what the center holds
-- (store/KEYS.md), made again from the tasks and agents themselves. Run
-- once when a router starts.
-- - The ready agents set, always (one read of every agent), and its change log starts over.
-- - The queues' live counts (offered, assigned) and each queue's arrivals
--   zset, only when the counts hash has no '_built' field: on a Redis written
--   by a ctxd older than them (one read of every waiting, offered and held
--   task). From then on the scripts keep them.
-- KEYS[1] the agents set, KEYS[2] the ready agents set, KEYS[3] the queues' live counts,
-- KEYS[4] the offers zset
-- ARGV[1] the agent key prefix (ctx:{r}:agent:), ARGV[2] the task key prefix
-- (ctx:{r}:task:), ARGV[3] the queue key prefix (ctx:{r}:queue:), ARGV[4..] the queues
-- whose lines are indexed: agents, tasks and lines are named by the sets and the
-- config, so their keys are built here, in the slot of KEYS (store/KEYS.md)
-- Returns {agents ready, 1 if the counts and arrivals were built now else 0}.
--!include ready_sync
redis.call('DEL', KEYS[2])
local agents = redis.call('SMEMBERS', KEYS[1])
for _, id in ipairs(agents) do
  if ready_rule(redis.call('HMGET', ARGV[1] .. id, unpack(READY_FIELDS))) then
    redis.call('SADD', KEYS[2], id)
  end
end
-- the set may have changed under the routers' copies of it: the change log starts over, and
-- a router whose copy is from before `reset` reads every ready agent again
local v = redis.call('HINCRBY', KEYS[2] .. ':log', 'version', 1)
redis.call('HSET', KEYS[2] .. ':log', 'reset', v)
redis.call('DEL', KEYS[2] .. ':changes')
local built = 0
if redis.call('HEXISTS', KEYS[3], '_built') == 0 then
  redis.call('DEL', KEYS[3])
  for _, id in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
    local t = redis.call('HMGET', ARGV[2] .. id, 'queue', 'state')
    if t[2] == 'offered' then redis.call('HINCRBY', KEYS[3], t[1] .. ':offered', 1) end
  end
  for _, a in ipairs(agents) do
    for _, id in ipairs(redis.call('SMEMBERS', ARGV[1] .. a .. ':tasks')) do
      local t = redis.call('HMGET', ARGV[2] .. id, 'queue', 'state')
      if t[2] == 'assigned' then redis.call('HINCRBY', KEYS[3], t[1] .. ':assigned', 1) end
    end
  end
  for i = 4, #ARGV do
    local w, ar = ARGV[3] .. ARGV[i] .. ':waiting', ARGV[3] .. ARGV[i] .. ':arrivals'
    redis.call('DEL', ar)
    for _, id in ipairs(redis.call('ZRANGE', w, 0, -1)) do
      local at = redis.call('HGET', ARGV[2] .. id, 'arrived')
      redis.call('ZADD', ar, tonumber(at) or 0, id)
    end
  end
  redis.call('HSET', KEYS[3], '_built', 1)
  built = 1
end
return {redis.call('SCARD', KEYS[2]), built}

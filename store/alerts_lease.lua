#!lua
-- alerts_lease.lua: who judges spikes this minute (one process at a time).
-- KEYS[1] the lease (string); ARGV[1] this process, ARGV[2] its time to live (ms).
-- Returns 1 when this process holds the lease (taken or renewed), else 0.
local cur = redis.call('GET', KEYS[1])
if cur == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0

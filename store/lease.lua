#!lua
-- lease.lua: take or renew a lease, so that one process at a time does a job
-- every process could do (the retention sweep, the alerts judge: store/lease.c).
-- A holder that dies loses it when it expires.
-- KEYS[1] the lease (a string: its holder); ARGV[1] who asks, ARGV[2] for how long (ms)
-- Returns 1 when ARGV[1] holds it now (taken or renewed), else 0.
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if cur then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1

#!lua
-- lease_release.lua: give a lease back (a process stopping cleanly), so that
-- another takes the job at its next try rather than when the lease expires.
-- KEYS[1] the lease; ARGV[1] who gives it back
-- Returns 1 when it was theirs (and is gone now), else 0.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0

#!lua
-- reply_due.lua: move replies whose retry is due back into the outbox.
-- KEYS[1] delayed zset, KEYS[2] outbox stream; ARGV[1] now (ms since epoch)
-- Returns how many were moved.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', 100000, '*', 'id', id)
end
return #due

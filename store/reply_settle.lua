#!lua
-- reply_settle.lua: record what posting a reply came to, atomically with
-- the outbox bookkeeping.
-- KEYS[1] reply hash, KEYS[2] outbox stream, KEYS[3] delayed zset, KEYS[4] reply events stream,
-- KEYS[5] agent events stream
-- ARGV[1] outbox group, ARGV[2] outbox entry id, ARGV[3] reply id,
-- ARGV[4] status: posted | retrying | failed, ARGV[5] network ref of the posted reply,
-- ARGV[6] error text, ARGV[7] now (RFC 3339), ARGV[8] retry due (ms since epoch),
-- ARGV[9] ms a settled (posted or failed) reply is kept (absent or 0: for ever)
-- A retry leaves the stream (acked) and waits in the delayed set until due,
-- so no entry sits pending for minutes where another consumer could claim it.
redis.call('HSET', KEYS[1], 'status', ARGV[4], 'updated', ARGV[7], 'error', ARGV[6])
if ARGV[4] == 'posted' then
  redis.call('HSET', KEYS[1], 'posted_ref', ARGV[5], 'posted', ARGV[7])
elseif ARGV[4] == 'retrying' then
  redis.call('HSET', KEYS[1], 'next_try', ARGV[8])
  redis.call('ZADD', KEYS[3], ARGV[8], ARGV[3])
end
if ARGV[4] ~= 'retrying' and tonumber(ARGV[9] or '0') > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[9])
end
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
local f = redis.call('HMGET', KEYS[1], 'item', 'agent')
local item = f[1] or ''
redis.call('XADD', KEYS[4], 'MAXLEN', '~', 100000, '*', 'id', ARGV[3], 'item', item,
           'status', ARGV[4], 'ref', ARGV[5], 'error', ARGV[6])
if f[2] and f[2] ~= '' then
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', 100000, '*', 'agent', f[2], 'type', 'reply_status',
             'reply', ARGV[3], 'item', item, 'status', ARGV[4], 'ref', ARGV[5],
             'error', ARGV[6])
end
return 1

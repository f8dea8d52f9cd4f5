#!lua
-- task_new.lua: create a task and queue it. Idempotent on the task id.
-- KEYS[1] task hash, KEYS[2] waiting zset of its queue, KEYS[3] routing events stream,
-- KEYS[4] queue stats hash, KEYS[5] the queue's arrivals zset, KEYS[6] the live chats zset
-- ARGV[1] task id, ARGV[2] channel, ARGV[3] queue, ARGV[4] priority, ARGV[5] now ms,
-- ARGV[6] order score, ARGV[7] sla due ms, ARGV[8] created (RFC 3339), ARGV[9] max length
-- (0 = none), ARGV[10] JSON object of further fields (item, lang, name, phone, not_before, parent),
-- ARGV[11] '1' to hold the task out of its queue (state 'new': a web chat whose customer
-- has not written yet; chat_message.lua queues it with the first message), else '0' or absent.
-- A held chat is live from its start (KEYS[6], the node beats it from then on): were the
-- node to die before its customer got the task's id, the sweep still ends it.
-- Returns 1 (queued, or held), 0 (existed already), or the error QUEUE_FULL.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local max = tonumber(ARGV[9])
if max > 0 and redis.call('ZCARD', KEYS[2]) >= max then
  return redis.error_reply('QUEUE_FULL queue ' .. ARGV[3] .. ' is full')
end
local held = ARGV[11] == '1'
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'channel', ARGV[2], 'queue', ARGV[3],
           'priority', ARGV[4], 'state', held and 'new' or 'queued', 'agent', '',
           'arrived', ARGV[5], 'order', ARGV[6], 'sla_due', ARGV[7], 'created', ARGV[8],
           'attempts', 0, 'refused', '{}')
local extra = cjson.decode(ARGV[10])
for k, v in pairs(extra) do
  if type(v) == 'string' or type(v) == 'number' then redis.call('HSET', KEYS[1], k, v) end
end
if held then
  redis.call('ZADD', KEYS[6], ARGV[5], ARGV[1])
  return 1
end
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[1])
redis.call('HINCRBY', KEYS[4], 'arrived', 1)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', 1000000, '*', 'type', 'queued', 'task', ARGV[1],
           'queue', ARGV[3], 'channel', ARGV[2], 'at', ARGV[5])
return 1

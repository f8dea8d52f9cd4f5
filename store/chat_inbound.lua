#!lua
-- chat_inbound.lua: a message from a one-to-one conversation on a network
-- (a Telegram private chat) joins the conversation's open chat task, or
-- opens one in the chat queue. Atomic, so two routers handling two messages
-- of one conversation at once still make one task.
-- KEYS[1] conversation key (its open task id), KEYS[2] waiting zset of the chat queue,
-- KEYS[3] routing events, KEYS[4] queue stats, KEYS[5] agent events,
-- KEYS[6] the new task's hash, KEYS[7] its messages list (used when a task is opened),
-- KEYS[8] the hash and KEYS[9] the messages list of the open task as read just before,
-- KEYS[10] the arrivals zset of the chat queue
-- ARGV[1] new task id (used when a task is opened), ARGV[2] queue, ARGV[3] now ms,
-- ARGV[4] order score, ARGV[5] sla due ms, ARGV[6] created (RFC 3339),
-- ARGV[7] item id, ARGV[8] message JSON, ARGV[9] customer name, ARGV[10] lang,
-- ARGV[11] the open task's id as read just before ('' = none): if the conversation
-- now names another, the error STALE, and the caller reads again,
-- ARGV[12] ms the conversation is kept after its last message (absent or 0: for ever)
-- Returns {task id, 1 if opened now else 0}.
local function keep()
  if tonumber(ARGV[12] or '0') > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[12]) end
end
local cur = redis.call('GET', KEYS[1])
if (cur or '') ~= ARGV[11] then
  return redis.error_reply('STALE the conversation changed since it was read')
end
if cur then
  local st = redis.call('HMGET', KEYS[8], 'state', 'agent', 'item')
  if st[1] and st[1] ~= 'done' and st[1] ~= 'abandoned' then
    -- this message is the open task's last already: a retry after the
    -- answer was lost, not a second message
    if st[3] == ARGV[7] then keep() return {cur, 0} end
    redis.call('RPUSH', KEYS[9], ARGV[8])
    -- replies go to the latest message
    redis.call('HSET', KEYS[8], 'item', ARGV[7])
    if st[1] == 'assigned' then
      redis.call('XADD', KEYS[5], 'MAXLEN', '~', 100000, '*', 'agent', st[2],
                 'type', 'chat_message', 'task', cur, 'message', ARGV[8])
    end
    keep()
    return {cur, 0}
  end
end
local tk = KEYS[6]
redis.call('HSET', tk, 'id', ARGV[1], 'channel', 'chat', 'queue', ARGV[2], 'priority', 0,
           'state', 'queued', 'agent', '', 'arrived', ARGV[3], 'order', ARGV[4],
           'sla_due', ARGV[5], 'created', ARGV[6], 'attempts', 0, 'refused', '{}',
           'item', ARGV[7], 'name', ARGV[9], 'origin', 'network')
if ARGV[10] ~= '' then redis.call('HSET', tk, 'lang', ARGV[10]) end
redis.call('RPUSH', KEYS[7], ARGV[8])
redis.call('SET', KEYS[1], ARGV[1])
keep()
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[10], ARGV[3], ARGV[1])
redis.call('HINCRBY', KEYS[4], 'arrived', 1)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', 1000000, '*', 'type', 'queued', 'task', ARGV[1],
           'queue', ARGV[2], 'channel', 'chat', 'at', ARGV[3])
return {ARGV[1], 1}

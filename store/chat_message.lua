#!lua
-- chat_message.lua: one chat message, kept with the task and delivered to
-- the other side through the events streams every serve node follows.
-- A web chat's first customer message also queues the chat (state 'new',
-- held by task_new.lua, becomes 'queued'), in this same step: an agent is
-- only ever offered a chat whose history has the customer's first message.
-- Its arrival, order score and SLA due time move on by the time it was held,
-- so waiting is counted from when there was something to answer.
-- KEYS[1] task hash, KEYS[2] messages list, KEYS[3] agent events, KEYS[4] chat events,
-- KEYS[5] routing events, KEYS[6] waiting zset, KEYS[7] stats hash and KEYS[8] arrivals zset
-- of the chat's queue
-- ARGV[1] task id, ARGV[2] 'customer' or 'agent', ARGV[3] agent id (agent messages),
-- ARGV[4] message JSON, ARGV[5] now ms, ARGV[6] the chat's queue (KEYS[6], KEYS[7])
-- A held chat has the queue it was opened for (nothing moves it before it is
-- queued); a caller naming another is refused (QUEUE) before anything is written.
-- Returns the message's index, or an error when the sender may not write.
local t = redis.call('HMGET', KEYS[1], 'state', 'agent', 'channel', 'queue', 'arrived', 'order',
                     'sla_due')
if t[3] ~= 'chat' then return redis.error_reply('NOT_CHAT not a chat') end
if t[1] == 'done' or t[1] == 'abandoned' or not t[1] then
  return redis.error_reply('CLOSED this chat is closed')
end
if ARGV[2] == 'agent' and (t[1] ~= 'assigned' or t[2] ~= ARGV[3]) then
  return redis.error_reply('NOT_ASSIGNED this chat is not assigned to you')
end
if ARGV[2] == 'customer' and t[1] == 'new' and t[4] ~= ARGV[6] then
  return redis.error_reply('QUEUE the chat is held for queue ' .. tostring(t[4]))
end
local n = redis.call('RPUSH', KEYS[2], ARGV[4])
redis.call('LTRIM', KEYS[2], -1000, -1)
if ARGV[2] == 'customer' then
  if t[1] == 'new' then
    local now = tonumber(ARGV[5])
    local held = now - (tonumber(t[5]) or now)
    if held < 0 then held = 0 end
    local order = string.format('%.17g', (tonumber(t[6]) or now) + held)
    redis.call('HSET', KEYS[1], 'state', 'queued', 'arrived', ARGV[5], 'order', order,
               'sla_due', string.format('%d', (tonumber(t[7]) or now) + held))
    redis.call('ZADD', KEYS[6], order, ARGV[1])
    redis.call('ZADD', KEYS[8], ARGV[5], ARGV[1])
    redis.call('HINCRBY', KEYS[7], 'arrived', 1)
    redis.call('XADD', KEYS[5], 'MAXLEN', '~', 1000000, '*', 'type', 'queued', 'task', ARGV[1],
               'queue', t[4], 'channel', 'chat', 'at', ARGV[5])
  elseif t[1] == 'assigned' then
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', 100000, '*', 'agent', t[2], 'type', 'chat_message',
               'task', ARGV[1], 'message', ARGV[4])
  end
else
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', 100000, '*', 'task', ARGV[1], 'type', 'message',
             'message', ARGV[4])
end
return n

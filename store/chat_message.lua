-- chat_message.lua: one chat message, kept with the task and delivered to
-- the other side through the events streams every serve node follows.
-- KEYS[1] task hash, KEYS[2] messages list, KEYS[3] agent events, KEYS[4] chat events
-- ARGV[1] task id, ARGV[2] 'customer' or 'agent', ARGV[3] agent id (agent messages),
-- ARGV[4] message JSON
-- Returns the message's index, or an error when the sender may not write.
local t = redis.call('HMGET', KEYS[1], 'state', 'agent', 'channel')
if t[3] ~= 'chat' then return redis.error_reply('NOT_CHAT not a chat') end
if t[1] == 'done' or t[1] == 'abandoned' or not t[1] then
  return redis.error_reply('CLOSED this chat is closed')
end
if ARGV[2] == 'agent' and (t[1] ~= 'assigned' or t[2] ~= ARGV[3]) then
  return redis.error_reply('NOT_ASSIGNED this chat is not assigned to you')
end
local n = redis.call('RPUSH', KEYS[2], ARGV[4])
redis.call('LTRIM', KEYS[2], -1000, -1)
if ARGV[2] == 'customer' then
  if t[1] == 'assigned' then
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', 100000, '*', 'agent', t[2], 'type', 'chat_message',
               'task', ARGV[1], 'message', ARGV[4])
  end
else
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', 100000, '*', 'task', ARGV[1], 'type', 'message',
             'message', ARGV[4])
end
return n

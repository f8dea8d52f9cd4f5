#!lua flags=no-writes
-- group_figures.lua: how far one consumer group is behind its stream, for /metrics and
-- /healthz (store/health.c). Read-only.
-- KEYS[1] the stream, KEYS[2] its dead letters; ARGV[1] the group.
-- Ages are taken on Redis' clock (TIME), the clock the stream ids were made on.
-- Returns {group exists (0/1), stream length, dead letters, lag (-1: Redis cannot tell),
--          pending, consumers, oldest pending entry's age ms (-1: none),
--          oldest unread entry's age ms (-1: none)}.
-- Without the group nothing of the stream was read: lag is its length, and the oldest
-- unread entry its first.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local dead = redis.call('XLEN', KEYS[2])
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {0, 0, dead, -1, 0, 0, -1, -1}
end
local len = redis.call('XLEN', KEYS[1])
-- the age of an entry from its id ("<ms>-<seq>")
local function age(id)
  local ms = tonumber(string.match(id, '^(%d+)-'))
  if not ms then return -1 end
  return math.max(now - ms, 0)
end
local g
for _, info in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local h = {}
  for i = 1, #info, 2 do h[info[i]] = info[i + 1] end
  if h['name'] == ARGV[1] then g = h break end
end
if not g then
  local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
  return {0, len, dead, len, 0, 0, -1, #first > 0 and age(first[1][1]) or -1}
end
-- lag is nil when entries were deleted after the group's last read (Redis 7)
local lag = g['lag']
if type(lag) ~= 'number' then lag = -1 end
local p = redis.call('XPENDING', KEYS[1], ARGV[1])
local oldest_pending = -1
if p[1] > 0 and p[2] then oldest_pending = age(p[2]) end
local unread = redis.call('XRANGE', KEYS[1], '(' .. g['last-delivered-id'], '+', 'COUNT', 1)
local oldest_unread = -1
if #unread > 0 then oldest_unread = age(unread[1][1]) end
return {1, len, dead, lag, p[1], g['consumers'], oldest_pending, oldest_unread}

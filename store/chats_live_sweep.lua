#!lua
-- chats_live_sweep.lua: web chats whose customer's node stopped beating.
-- KEYS[1] chats:live zset (task -> last beat ms of the node holding the
-- customer's connection), KEYS[2] chats:left zset (task -> ms the customer left)
-- ARGV[1] now ms, ARGV[2] ms after which a silent entry counts as gone (its node
-- died), ARGV[3] how many to move at most
-- A node beats its customers' chats three times per presence_timeout; one
-- killed before it could record a dropped chat leaves entries that go stale.
-- Each is taken as a customer who left when it was last seen: the router
-- abandons it after presence_grace unless the customer resumes it elsewhere
-- (which takes it out of chats:left and back in here). This is what ends a
-- chat whose node died before its customer ever got `started` (state new).
-- Returns how many chats were moved.
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]),
                        'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
for i = 1, #gone, 2 do
  redis.call('ZREM', KEYS[1], gone[i])
  redis.call('ZADD', KEYS[2], 'NX', gone[i + 1], gone[i])
end
return #gone / 2

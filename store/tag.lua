#!lua
-- tag.lua: store a tagged item and acknowledge its raw entry, atomically.
-- KEYS[1] raw stream, KEYS[2] item hash, KEYS[3] tagged stream,
-- KEYS[4..] index sorted sets the item belongs to (all, sentiment, complaint,
--   brands, topics, complaint reasons: store/KEYS.md)
-- ARGV[1] consumer group, ARGV[2] raw entry id, ARGV[3] item id,
-- ARGV[4] tagged item JSON, ARGV[5] index score (published, ms), ARGV[6] tagged stream cap,
-- ARGV[7] when the item hash expires (ms; absent or 0: never), ARGV[8] the oldest index
-- score the indexes keep (ms; absent or 0: any): an item published before is stored, not indexed
-- Idempotent: an item stored before (a redelivered entry) is only acknowledged.
-- Returns the tagged stream id, or false when the item was already stored.
local sid = false
if redis.call('EXISTS', KEYS[2]) == 0 then
  sid = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'id', ARGV[3], 'item', ARGV[4])
  redis.call('HSET', KEYS[2], 'json', ARGV[4], 'sid', sid)
  if tonumber(ARGV[7] or '0') > 0 then redis.call('PEXPIREAT', KEYS[2], ARGV[7]) end
  local indexed = tonumber(ARGV[5]) >= tonumber(ARGV[8] or '0')
  for i = 4, indexed and #KEYS or 3 do
    redis.call('ZADD', KEYS[i], ARGV[5], ARGV[3])
  end
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return sid

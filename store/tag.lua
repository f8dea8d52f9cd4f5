#!lua
-- tag.lua: store a tagged item and acknowledge its raw entry, atomically.
-- KEYS[1] raw stream, KEYS[2] item hash, KEYS[3] tagged stream,
-- KEYS[4..3+ARGV[7]] index sorted sets the item belongs to (all, sentiment,
--   complaint, brands, topics, complaint reasons: store/KEYS.md)
-- ARGV[1] consumer group, ARGV[2] raw entry id, ARGV[3] item id,
-- ARGV[4] tagged item JSON, ARGV[5] index score (published, ms), ARGV[6] tagged stream cap
-- ARGV[7] the number of index keys (absent: every key from KEYS[4] on)
-- ARGV[8] when the item hash expires (ms; absent or 0: never), ARGV[9] the oldest index
-- score the indexes keep (ms; absent or 0: any): an item published before is stored, not
-- indexed (retention: docs/operations.md)
-- ARGV[10] the item's trend record (absent: trends off), pushed to KEYS[4+nidx], the
-- pending counts, which trends_flush.lua counts (store/KEYS.md "Trend counters"): pushed
-- only with a newly stored item, so counted exactly once per item.
-- Idempotent: an item stored before (a redelivered entry) is only acknowledged.
-- Returns the tagged stream id, or false when the item was already stored.
local nidx = tonumber(ARGV[7]) or (#KEYS - 3)

local sid = false
if redis.call('EXISTS', KEYS[2]) == 0 then
  sid = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'id', ARGV[3], 'item', ARGV[4])
  redis.call('HSET', KEYS[2], 'json', ARGV[4], 'sid', sid)
  if tonumber(ARGV[8] or '0') > 0 then redis.call('PEXPIREAT', KEYS[2], ARGV[8]) end
  local indexed = tonumber(ARGV[5]) >= tonumber(ARGV[9] or '0')
  for i = 4, indexed and 3 + nidx or 3 do
    redis.call('ZADD', KEYS[i], ARGV[5], ARGV[3])
  end
  if ARGV[10] then redis.call('RPUSH', KEYS[4 + nidx], ARGV[10]) end
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return sid

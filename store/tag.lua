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
-- ARGV[10..] and the keys after the indexes: the trend counters (count_trends below)
-- Idempotent: an item stored before (a redelivered entry) is only acknowledged.
-- Returns the tagged stream id, or false when the item was already stored.
local nidx = tonumber(ARGV[7]) or (#KEYS - 3)

-- Trend counters (store/KEYS.md "Trend counters"), counted only with a
-- newly stored item, so exactly once per item.
-- ARGV[10] series count ns (0: trends off), ARGV[11..13] the minute, hour and day
-- bucket fields, ARGV[14..16] the EXPIREAT (s) of a new minute, hour, day key
-- ('0': that level's bucket is past its retention and is not counted),
-- ARGV[17] sentiment suffix (p, n, u), ARGV[18] '1' for a complaint,
-- ARGV[19] the counted instant (ms), ARGV[20..] per series its name and '1'
-- when split by sentiment and complaint.
-- KEYS[4+nidx] the series registry, then each series' minute, hour, day key.
local function count_trends()
  local ns = tonumber(ARGV[10]) or 0
  if ns == 0 then return end
  local reg = 4 + nidx
  local fields = {ARGV[11], ARGV[12], ARGV[13]}
  local expires = {ARGV[14], ARGV[15], ARGV[16]}
  local sent, complaint = ':' .. ARGV[17], ARGV[18] == '1'
  local zadd = {'ZADD', KEYS[reg], 'GT'}
  for s = 1, ns do
    zadd[2 + 2 * s], zadd[3 + 2 * s] = ARGV[19], ARGV[18 + 2 * s]
  end
  redis.call(unpack(zadd))
  for s = 1, ns do
    local split = ARGV[19 + 2 * s] == '1'
    for l = 1, 3 do
      local k, f = KEYS[reg + 3 * (s - 1) + l], fields[l]
      if expires[l] == '0' then
        -- past retention: nothing to keep
      elseif redis.call('HINCRBY', k, f, 1) == 1 then
        redis.call('EXPIREAT', k, expires[l])   -- a new bucket: its key may be new
      end
      if split and expires[l] ~= '0' then
        redis.call('HINCRBY', k, f .. sent, 1)
        if complaint then redis.call('HINCRBY', k, f .. ':c', 1) end
      end
    end
  end
end

local sid = false
if redis.call('EXISTS', KEYS[2]) == 0 then
  sid = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'id', ARGV[3], 'item', ARGV[4])
  redis.call('HSET', KEYS[2], 'json', ARGV[4], 'sid', sid)
  if tonumber(ARGV[8] or '0') > 0 then redis.call('PEXPIREAT', KEYS[2], ARGV[8]) end
  local indexed = tonumber(ARGV[5]) >= tonumber(ARGV[9] or '0')
  for i = 4, indexed and 3 + nidx or 3 do
    redis.call('ZADD', KEYS[i], ARGV[5], ARGV[3])
  end
  count_trends()
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return sid

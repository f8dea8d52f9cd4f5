#!lua flags=no-writes
-- query.lua: newest items of an index, filtered, in one round trip.
-- KEYS[1] tagged stream, KEYS[2..] the index sorted sets of the filters
-- given (ctx:{i}:idx:all when none): the smallest is walked, and every filter
-- is checked on each item, so any one of them would give the same answer.
-- ARGV[1] max score, ARGV[2] min score, ARGV[3] limit,
-- ARGV[4] brand, ARGV[5] topic, ARGV[6] sentiment label,
-- ARGV[7] complaint ("true" or "false"), ARGV[8] complaint reason ("" = any),
-- ARGV[9] the item key prefix (ctx:{i}:item:): the items are named by the index, so
-- their keys are built here, in the slot of KEYS (store/KEYS.md)
-- ARGV[10] "1": each json is followed by its index score (with item shards the caller
-- merges the shards' answers by it; store/KEYS.md "Item shards")
-- Returns {last tagged stream id, json, json, ...}, newest first. At most
-- 5000 index entries are examined so a rare filter cannot stall Redis.
-- An item tagged before complaints were (no tags.complaint) is in no
-- complaint index, and matches neither complaint=true nor complaint=false.
local function has(list, v)
  if type(list) ~= 'table' then return false end
  for _, x in ipairs(list) do if x == v then return true end end
  return false
end
local index, smallest = KEYS[2], redis.call('ZCARD', KEYS[2])
for i = 3, #KEYS do
  local n = redis.call('ZCARD', KEYS[i])
  if n < smallest then index, smallest = KEYS[i], n end
end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local out = { (last[1] and last[1][1]) or '0-0' }
local limit = tonumber(ARGV[3])
local brand, topic, label, complaint, reason = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local filtered = brand ~= '' or topic ~= '' or label ~= '' or complaint ~= '' or reason ~= ''
local scores = ARGV[10] == '1'
local offset, page, examined = 0, 200, 0
while #out - 1 < (scores and 2 * limit or limit) and examined < 5000 and smallest > 0 do
  local got = redis.call('ZREVRANGEBYSCORE', index, ARGV[1], ARGV[2], 'WITHSCORES',
                        'LIMIT', offset, page)
  if #got == 0 then break end
  offset = offset + #got / 2
  for k = 1, #got, 2 do
    local id = got[k]
    examined = examined + 1
    local j = redis.call('HGET', ARGV[9] .. id, 'json')
    if j then
      local ok = true
      if filtered then
        local it = cjson.decode(j)
        local t = it.tags or {}
        local c = t.complaint
        if type(c) ~= 'table' then c = nil end
        if brand ~= '' and not has(t.brands, brand) then ok = false end
        if topic ~= '' and not has(t.topics, topic) then ok = false end
        if label ~= '' and not (t.sentiment and t.sentiment.label == label) then ok = false end
        if complaint ~= '' and not (c and tostring(c.label == true) == complaint) then ok = false end
        if reason ~= '' and not (c and c.label == true and has(c.reasons, reason)) then ok = false end
      end
      if ok then
        out[#out + 1] = j
        if scores then out[#out + 1] = got[k + 1] end
        if #out - 1 >= (scores and 2 * limit or limit) then break end
      end
    end
  end
end
return out

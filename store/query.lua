-- query.lua: newest items of an index, filtered, in one round trip.
-- KEYS[1] index sorted set, KEYS[2] tagged stream
-- ARGV[1] max score, ARGV[2] min score, ARGV[3] limit,
-- ARGV[4] brand, ARGV[5] topic, ARGV[6] sentiment label ("" = any)
-- Returns {last tagged stream id, json, json, ...}, newest first. At most
-- 5000 index entries are examined so a rare filter cannot stall Redis.
local function has(list, v)
  if type(list) ~= 'table' then return false end
  for _, x in ipairs(list) do if x == v then return true end end
  return false
end
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local out = { (last[1] and last[1][1]) or '0-0' }
local limit = tonumber(ARGV[3])
local offset, page, examined = 0, 200, 0
while #out - 1 < limit and examined < 5000 do
  local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', offset, page)
  if #ids == 0 then break end
  offset = offset + #ids
  for _, id in ipairs(ids) do
    examined = examined + 1
    local j = redis.call('HGET', 'ctx:item:' .. id, 'json')
    if j then
      local ok = true
      if ARGV[4] ~= '' or ARGV[5] ~= '' or ARGV[6] ~= '' then
        local it = cjson.decode(j)
        local t = it.tags or {}
        if ARGV[4] ~= '' and not has(t.brands, ARGV[4]) then ok = false end
        if ARGV[5] ~= '' and not has(t.topics, ARGV[5]) then ok = false end
        if ARGV[6] ~= '' and not (t.sentiment and t.sentiment.label == ARGV[6]) then ok = false end
      end
      if ok then
        out[#out + 1] = j
        if #out - 1 >= limit then break end
      end
    end
  end
end
return out

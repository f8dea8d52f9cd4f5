#!lua
-- trends_flush.lua: count the pending trend records into the minute, hour and day
-- buckets, exactly once: the records counted leave the pending list in the same step.
-- tag.lua pushes one record per newly stored item, so an item is counted once however
-- often it is delivered, and an item costs tag.lua one RPUSH; here a record costs a few
-- table updates and each bucket one HMGET and HSET per flush, however many items it got.
-- KEYS[1] the pending list, KEYS[2] the series registry (zset: series -> the start (ms)
-- of the newest minute it was counted in)
-- ARGV[1] the trend key prefix (ctx:{i}:tr:), ARGV[2] at most this many records
-- A record: "<minute> <yyyymmdd> <expiry s of a minute, hour, day key> <p|n|u><0|1>"
-- (sentiment, complaint; expiry 0: past that level's retention, not counted), then per
-- series "\n" .. "S" (split by sentiment and complaint) or "U" (count only) .. its name.
-- A day bucket is a field (the epoch day) holding "count,positive,negative,complaint" (S)
-- or "count" (U); neutral is count - positive - negative. The minutes of an hour are one
-- field of the day's key, the epoch hour, holding "<minute of hour>=<counts>" for each
-- minute counted, ';' between them; the hours of a UTC day one field of the month's key,
-- the epoch day, holding "<hour of day>=<counts>;..." (so a day of minutes is 24 fields, a
-- month of hours 31: fewer to keep and to read). A field of the first layout (a bare count,
-- with :p :n :u :c fields beside it) is added to as a count, so old keys go on working
-- (store/KEYS.md).
-- Returns the number of records counted.
local recs = redis.call('LPOP', KEYS[1], ARGV[2])
if not recs then return 0 end
local pre = ARGV[1]
-- items of one minute with the same tags make the same record: parse each once
local same, distinct = {}, {}
for _, rec in ipairs(recs) do
  local n = same[rec]
  if not n then distinct[#distinct + 1] = rec end
  same[rec] = (n or 0) + 1
end
local acc, order, newest = {}, {}, {}
local cache = {}                        -- yyyymmdd -> series -> its 3 keys' records
local lv = {'m:', 'h:', 'd:'}
local function counts(a, f)             -- the counts of field f of key record a
  local v = a.f[f]
  if not v then
    v = a.per and {} or {0, 0, 0, 0}
    a.f[f] = v
    a.list[#a.list + 1] = f
  end
  return v
end
for _, rec in ipairs(distinct) do
  local w = same[rec]
  local mb, ymd, e1, e2, e3, s, c = string.match(rec, '^(%d+) (%d+) (%d+) (%d+) (%d+) (%a)(%d)')
  if mb then
    local m = tonumber(mb)
    -- minute key: a field per hour holding its minutes; hour key: a field per UTC day
    -- (epoch day) holding its hours; day key: a field per day
    local h = math.floor(m / 60)
    local day = tostring(math.floor(m / 1440))
    local field = {tostring(h), day, day}
    local sub = {m % 60, h % 24}
    local per = {ymd, string.sub(ymd, 1, 6), string.sub(ymd, 1, 4)}
    local exp = {e1, e2, e3}
    local pos, neg = s == 'p' and w or 0, s == 'n' and w or 0
    local cpl = c == '1' and w or 0
    local keys = cache[ymd]
    if not keys then
      keys = {}
      cache[ymd] = keys
    end
    for kind, name in string.gmatch(rec, '\n(%a)([^\n]+)') do
      if not newest[name] or newest[name] < m then newest[name] = m end
      local split = kind == 'S'
      local ka = keys[name]
      if not ka then
        ka = {}
        keys[name] = ka
        for l = 1, 3 do
          local k = pre .. lv[l] .. name .. ':' .. per[l]
          local a = acc[k]
          if not a then
            a = {f = {}, list = {}, e = exp[l], split = split, per = ({60, 24})[l]}
            acc[k] = a
            order[#order + 1] = k
          end
          ka[l] = a
        end
      end
      for l = 1, 3 do
        if exp[l] ~= '0' then
          local a = ka[l]
          a.e = exp[l]
          local v = counts(a, field[l])
          if l < 3 then
            local o = v[sub[l]]
            if not o then
              o = {0, 0, 0, 0}
              v[sub[l]] = o
            end
            v = o
          end
          v[1] = v[1] + w
          if split then v[2], v[3], v[4] = v[2] + pos, v[3] + neg, v[4] + cpl end
        end
      end
    end
  end
end
local function add(v, c0, p0, n0, x0)
  v[1] = v[1] + (tonumber(c0) or 0)
  v[2] = v[2] + (tonumber(p0) or 0)
  v[3] = v[3] + (tonumber(n0) or 0)
  v[4] = v[4] + (tonumber(x0) or 0)
end
local function packed(split, v)
  return split and string.format('%d,%d,%d,%d', v[1], v[2], v[3], v[4])
         or string.format('%d', v[1])
end
-- The entries v (sub-bucket -> counts) added into a field "<o>=<counts>;...": only the
-- entries counted are found (string.find) and rewritten, so an hour's field of 60 minutes
-- costs no more than one of a single minute; a new entry goes at the end.
local function merge(cur, v, per, split)
  local s = cur and (';' .. cur) or ''
  for o = 0, per - 1 do
    local d = v[o]
    if d then
      local i, j, c0, p0, n0, x0 = string.find(s, ';' .. o .. '=(%d+),?(%d*),?(%d*),?(%d*)')
      if i then
        add(d, c0, p0, n0, x0)
        s = string.sub(s, 1, i - 1) .. ';' .. o .. '=' .. packed(split, d) .. string.sub(s, j + 1)
      else
        s = s .. ';' .. o .. '=' .. packed(split, d)
      end
    end
  end
  return string.sub(s, 2)
end
-- The records are taken already, and a script's writes stay when it fails half-way: so a
-- key that is not a hash (nothing here makes one) is passed over, not an error, and no
-- command gets more arguments than unpack() can give (fields: at most ARGV[2] a key).
for _, k in ipairs(order) do
  local a = acc[k]
  local cur = #a.list > 0 and redis.pcall('HMGET', k, unpack(a.list))   -- none: past retention
  if type(cur) == 'table' and not cur.err then
    local hset = {'HSET', k}
    for i, f in ipairs(a.list) do
      local v = a.f[f]
      local val
      if a.per then
        val = merge(cur[i], v, a.per, a.split)
      else
        if cur[i] then add(v, string.match(cur[i], '^(%d+),?(%d*),?(%d*),?(%d*)')) end
        val = packed(a.split, v)
      end
      hset[#hset + 1] = f
      hset[#hset + 1] = val
    end
    -- a new field: its key may be new (EXPIREAT again is harmless)
    if redis.call(unpack(hset)) > 0 then redis.call('EXPIREAT', k, a.e) end
  end
end
local zadd = {'ZADD', KEYS[2], 'GT'}
for name, m in pairs(newest) do
  zadd[#zadd + 1] = string.format('%d', m * 60000)
  zadd[#zadd + 1] = name
  if #zadd >= 1003 then
    redis.pcall(unpack(zadd))
    zadd = {'ZADD', KEYS[2], 'GT'}
  end
end
if #zadd > 3 then redis.pcall(unpack(zadd)) end
return #recs

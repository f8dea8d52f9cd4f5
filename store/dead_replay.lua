#!lua
-- dead_replay.lua: put dead letters back on the stream they came from. For each id, in one
-- step: XADD the entry's original fields to the stream, then XDEL the letter.
-- KEYS[1] the dead-letter stream, KEYS[2] the stream its letters came from
-- ARGV[1] that stream's cap (MAXLEN ~), ARGV[2..] the letters' ids
-- A letter of store/group.c (dead_from, dead_id, dead_deliveries, then the entry's fields)
-- gets the entry's fields back; one of the analyze role for a raw entry that was not an
-- item (raw_id, reason, payload) gets item = payload, and id when the payload is JSON with
-- a string id. A letter that came from another stream than KEYS[2] is left where it is.
-- Returns {letter id, new entry id | "missing" | "other_stream" | "unknown_shape"} per id.
local out = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local e = redis.call('XRANGE', KEYS[1], id, id)
  if #e == 0 then
    out[#out + 1] = {id, 'missing'}
  else
    local f, h = e[1][2], {}
    for k = 1, #f, 2 do h[f[k]] = f[k + 1] end
    local fields = {}
    if h['dead_from'] then
      for k = 1, #f, 2 do
        if f[k] ~= 'dead_from' and f[k] ~= 'dead_id' and f[k] ~= 'dead_deliveries' then
          fields[#fields + 1] = f[k]
          fields[#fields + 1] = f[k + 1]
        end
      end
    elseif h['raw_id'] then
      local ok, it = pcall(cjson.decode, h['payload'] or '')
      if ok and type(it) == 'table' and type(it.id) == 'string' then
        fields = {'id', it.id}
      end
      fields[#fields + 1] = 'item'
      fields[#fields + 1] = h['payload'] or ''
    end
    if (h['dead_from'] or KEYS[2]) ~= KEYS[2] then
      out[#out + 1] = {id, 'other_stream'}
    elseif #fields == 0 then
      out[#out + 1] = {id, 'unknown_shape'}
    else
      local new = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', unpack(fields))
      redis.call('XDEL', KEYS[1], id)
      out[#out + 1] = {id, new}
    end
  end
end
return out

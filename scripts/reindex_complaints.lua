#!lua
-- reindex_complaints.lua: put items stored before the complaint indexes
-- existed (their tags have "complaint", but tag.lua did not index it yet)
-- into ctx:{i}:idx:complaint:true|false and ctx:{i}:idx:reason:<reason>, as
-- ctxd/analyze.c does for new ones. Run by scripts/reindex-complaints.sh,
-- one chunk per call so Redis is never held for long; idempotent.
-- KEYS[1] ctx:{i}:idx:all: the other keys (items, complaint indexes) are named from its
-- prefix (ctx:{i}:), so they are in its slot (store/KEYS.md)
-- ARGV[1] rank in KEYS[1] to start at (oldest first), ARGV[2] chunk size
-- Returns {next rank (0 when done), entries added to the complaint indexes}
local from, n = tonumber(ARGV[1]), tonumber(ARGV[2])
local P = string.match(KEYS[1], '^(.*:)idx:all$')
local ids = redis.call('ZRANGE', KEYS[1], from, from + n - 1, 'WITHSCORES')
local added = 0
for i = 1, #ids, 2 do
  local id, score = ids[i], ids[i + 1]
  local j = redis.call('HGET', P .. 'item:' .. id, 'json')
  local ok, it = pcall(cjson.decode, j or 'null')
  local c = ok and type(it) == 'table' and type(it.tags) == 'table' and it.tags.complaint
  if type(c) == 'table' then
    local yes = c.label == true
    added = added + redis.call('ZADD', P .. 'idx:complaint:' .. tostring(yes), score, id)
    if yes and type(c.reasons) == 'table' then
      for _, r in ipairs(c.reasons) do
        if type(r) == 'string' then
          added = added + redis.call('ZADD', P .. 'idx:reason:' .. r, score, id)
        end
      end
    end
  end
end
if #ids < 2 * n then return {0, added} end
return {from + n, added}

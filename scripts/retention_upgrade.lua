#!lua
-- retention_upgrade.lua: give the keys an older ctxd wrote (before retention)
-- the TTL the scripts now set as they write: done and abandoned tasks with their
-- chat messages, settled replies and conversations (routing, ctx:{r}:), simhash
-- band lists (items, ctx:{i}:). Items, indexes, seen-sets and streams need nothing:
-- the sweeper handles those (docs/operations.md).
-- Run by scripts/retention-upgrade.sh once per domain, one SCAN step per call so
-- Redis is never held for long; idempotent (only keys without a TTL are touched).
-- KEYS[1] the domain's prefix (ctx:{r}: or ctx:{i}:): every key scanned and touched
-- is named from it, so it is in its slot (store/KEYS.md, "Hash tags")
-- ARGV[1] SCAN cursor, ARGV[2] COUNT, ARGV[3] now ms, ARGV[4] tasks ms, ARGV[5] replies ms,
-- ARGV[6] simhash ms (a period of 0 leaves those keys as they are)
-- Returns {next cursor ('0' when done), keys given a TTL}
local P = KEYS[1]
local r = redis.call('SCAN', ARGV[1], 'MATCH', P .. '*', 'COUNT', tonumber(ARGV[2]))
local now, tasks, replies, simhash = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]),
                                     tonumber(ARGV[6])
local n = 0
local function at(k, when)
  if redis.call('PTTL', k) == -1 then n = n + redis.call('PEXPIREAT', k, when) end
end
local function under(k, what)     -- the rest of k after P .. what, or nil
  local head = P .. what
  if string.sub(k, 1, #head) == head then return string.sub(k, #head + 1) end
end
for _, k in ipairs(r[2]) do
  local task = under(k, 'task:')
  if task and tasks > 0 and redis.call('PTTL', k) == -1 then
    local t = redis.call('HMGET', k, 'state', 'finished')
    if t[1] == 'done' or t[1] == 'abandoned' then
      local when = (tonumber(t[2]) or now) + tasks
      at(k, when)
      at(P .. 'chat:' .. task .. ':messages', when)
    end
  elseif under(k, 'reply:') and replies > 0 and redis.call('PTTL', k) == -1 then
    local st = redis.call('HGET', k, 'status')
    if st == 'posted' or st == 'failed' then at(k, now + replies) end
  elseif under(k, 'simhash:') and simhash > 0 then
    at(k, now + simhash)
  elseif under(k, 'conversation:') and tasks > 0 then
    at(k, now + tasks)
  end
end
return {r[1], n}

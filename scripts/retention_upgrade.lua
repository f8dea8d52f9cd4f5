-- retention_upgrade.lua: give the keys an older ctxd wrote (before retention)
-- the TTL the scripts now set as they write: done and abandoned tasks with their
-- chat messages, settled replies, simhash band lists, conversations. Items, indexes,
-- seen-sets and streams need nothing: the sweeper handles those (docs/operations.md).
-- Run by scripts/retention-upgrade.sh, one SCAN step per call so Redis is never held
-- for long; idempotent (only keys without a TTL are touched).
-- ARGV[1] SCAN cursor, ARGV[2] COUNT, ARGV[3] now ms, ARGV[4] tasks ms, ARGV[5] replies ms,
-- ARGV[6] simhash ms (a period of 0 leaves those keys as they are)
-- Returns {next cursor ('0' when done), keys given a TTL}
local r = redis.call('SCAN', ARGV[1], 'MATCH', 'ctx:*', 'COUNT', tonumber(ARGV[2]))
local now, tasks, replies, simhash = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]),
                                     tonumber(ARGV[6])
local n = 0
local function at(k, when)
  if redis.call('PTTL', k) == -1 then n = n + redis.call('PEXPIREAT', k, when) end
end
for _, k in ipairs(r[2]) do
  if tasks > 0 and string.sub(k, 1, 9) == 'ctx:task:' and redis.call('PTTL', k) == -1 then
    local t = redis.call('HMGET', k, 'state', 'finished')
    if t[1] == 'done' or t[1] == 'abandoned' then
      local when = (tonumber(t[2]) or now) + tasks
      at(k, when)
      at('ctx:chat:' .. string.sub(k, 10) .. ':messages', when)
    end
  elseif replies > 0 and string.sub(k, 1, 10) == 'ctx:reply:' and redis.call('PTTL', k) == -1 then
    local st = redis.call('HGET', k, 'status')
    if st == 'posted' or st == 'failed' then at(k, now + replies) end
  elseif simhash > 0 and string.sub(k, 1, 12) == 'ctx:simhash:' then
    at(k, now + simhash)
  elseif tasks > 0 and string.sub(k, 1, 17) == 'ctx:conversation:' then
    at(k, now + tasks)
  end
end
return {r[1], n}

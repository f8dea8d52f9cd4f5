#!lua
-- alerts_apply.lua: the detector's judgement of one series for one minute, kept.
-- KEYS[1] detector state hash, KEYS[2] alerts stream, KEYS[3] alert counts hash.
-- ARGV[1] series, ARGV[2] the minute judged (epoch minute), ARGV[3] the new state,
-- ARGV[4] the alert (JSON) raised, or '' for none, ARGV[5] the stream's cap.
-- A minute already judged (by another process, or before a restart) changes nothing.
-- Returns the new alert's stream id, 1 (kept, no alert) or 0 (already judged).
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  local last = tonumber(string.match(old, '^%S+ %S+ %S+ (%S+)'))
  if last and last >= tonumber(ARGV[2]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[4] == '' then return 1 end
redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'series', ARGV[1],
                  'alert', ARGV[4])

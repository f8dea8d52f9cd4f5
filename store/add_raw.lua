#!lua
-- add_raw.lua: add a collected item to the raw stream unless its id was seen.
-- KEYS[1] seen set of the source, KEYS[2] raw stream
-- ARGV[1] item id, ARGV[2] item JSON, ARGV[3] approximate stream cap
-- Returns the new stream id, or false when the item was already seen.
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then
  return false
end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'id', ARGV[1], 'item', ARGV[2])

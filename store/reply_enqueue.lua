#!lua
-- reply_enqueue.lua: queue an agent's reply to an item for posting.
-- KEYS[1] reply hash, KEYS[2] outbox stream, KEYS[3] reply events stream,
-- KEYS[4] agent events stream (the writing agent hears of its reply's fate)
-- ARGV[1] reply id, ARGV[2] item id, ARGV[3] text, ARGV[4] agent ("" = none), ARGV[5] now (RFC 3339),
-- ARGV[6] the item's JSON, read just before ("" = no such item): the item hash is in
-- the items' slot, not in this one (store/KEYS.md), and an item never changes once stored
-- Idempotent on the reply id: a reply queued before is returned as it is.
-- Returns {status, source, network, ref} or an error:
--   NOITEM (no such item), NOREPLY (its network takes no replies).
if redis.call('EXISTS', KEYS[1]) == 1 then
  local r = redis.call('HMGET', KEYS[1], 'status', 'source', 'network', 'ref')
  return r
end
if ARGV[6] == '' then return redis.error_reply('NOITEM no such item') end
local it = cjson.decode(ARGV[6])
local rt = it.reply_to
if type(rt) ~= 'table' or type(rt.network) ~= 'string' then
  return redis.error_reply('NOREPLY ' .. (type(it.url) == 'string' and it.url or ''))
end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'item', ARGV[2], 'text', ARGV[3], 'agent', ARGV[4],
           'source', it.source, 'network', rt.network, 'ref', rt.ref or '', 'status', 'queued',
           'attempts', 0, 'created', ARGV[5], 'updated', ARGV[5])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', 100000, '*', 'id', ARGV[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', 100000, '*', 'id', ARGV[1], 'item', ARGV[2],
           'status', 'queued')
if ARGV[4] ~= '' then
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', 100000, '*', 'agent', ARGV[4], 'type',
             'reply_status', 'reply', ARGV[1], 'item', ARGV[2], 'status', 'queued')
end
return {'queued', it.source, rt.network, rt.ref or ''}

-- The write API starts a party's write in one call: take the party's lock, read its
-- chain head and any intent left on it, and -- when asked and no intent is pending --
-- record this write's intent, chained after the head's offset.
-- ARGV: lock key, lock token, lock ttl (ms), head key, party,
--       intent ('' for none, else '<settle_at_ms>' and '<event_id>|<idempotency key>'
--       as ARGV[6] and ARGV[7]).
-- Returns {'locked'} | {'not_ready'} | {'pending', head, intent} | {'ok', head, intent}
-- (head: its first line, '' before the party's first event; intent '' when none is
-- pending).
if not redis.call('SET', ARGV[1], ARGV[2], 'NX', 'PX', ARGV[3]) then return {'locked'} end
if redis.call('EXISTS', K.ready) == 0 then
  redis.call('DEL', ARGV[1])
  return {'not_ready'}
end
-- Only the head's first line: the marker lines after it (one per work decided on, up
-- to tens of thousands for a label) are not the writer's business.
local head = string.match(redis.call('HGET', ARGV[4], ARGV[5]) or '', '^[^\n]*')
local intent = redis.call('HGET', ARGV[4], ARGV[5] .. '|u')
if intent then return {'pending', head, intent} end
if ARGV[6] ~= '' then
  local after = tonumber(string.match(head, '^(%-?%d+)|')) or -1
  redis.call('HSET', ARGV[4], ARGV[5] .. '|u',
    ARGV[6] .. '|' .. string.format('%d', after) .. '|' .. ARGV[7])
end
return {'ok', head, ''}

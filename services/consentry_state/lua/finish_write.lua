-- The write API ends a party's write whose event the broker acknowledged, in one call:
-- note_party_event (advance the head, drop the intent, and for a delegation apply it),
-- then release the lock if it is still this write's.
-- ARGV: party, head key, offset, digest, lock key, lock token,
--       then for a delegation: '<delegate>|<purpose>', grant|revoke.
-- Returns 1 when the head was advanced, 0 while the state is not whole.
local noted = 0
if redis.call('EXISTS', K.ready) == 1 then
  local party, key, offset = ARGV[1], ARGV[2], tonumber(ARGV[3])
  advance_head(key, party, offset, ARGV[4])
  redis.call('HDEL', key, party .. '|u')
  if ARGV[7] then apply_delegation(party, ARGV[7], offset, ARGV[8]) end
  noted = 1
end
if redis.call('GET', ARGV[5]) == ARGV[6] then redis.call('DEL', ARGV[5]) end
return noted

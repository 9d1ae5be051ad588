-- The write API records a party's event it has just had acknowledged (acks=all), so the
-- next write chains onto it and a delegation counts at once, before the materialiser
-- reaches it. Needs K.ready (a complete state): returns 0 without it, else 1.
-- ARGV: party, head key, offset, digest, clear_intent (1: drop the intent),
--       then for a delegation: '<delegate>|<purpose>', grant|revoke.
if redis.call('EXISTS', K.ready) == 0 then return 0 end
local party, key, offset = ARGV[1], ARGV[2], tonumber(ARGV[3])
advance_head(key, party, offset, ARGV[4])
if ARGV[5] == '1' then redis.call('HDEL', key, party .. '|u') end
if ARGV[6] then apply_delegation(party, ARGV[6], offset, ARGV[7]) end
return 1

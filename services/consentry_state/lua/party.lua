-- Shared by apply_batch.lua (the materialiser) and note_party_event.lua (the write API,
-- right after Kafka acknowledged a party's event): both move party state only forwards
-- by log offset, so whichever of the two comes second changes nothing.

-- K.delegations .. party: field '<delegate>|<purpose>' = '<offset>|grant' or '<offset>|revoke'
local function apply_delegation(party, field, offset, action)
  local key = K.delegations .. party
  local current = redis.call('HGET', key, field)
  if current then
    local at = tonumber(string.match(current, '^(%-?%d+)'))
    if offset == at then return 'duplicate' end
    if offset < at then return 'stale' end
  end
  redis.call('HSET', key, field, string.format('%d', offset) .. '|' .. action)
  return 'applied'
end

-- The head: bucket key, field = party, value '<offset>|<digest>'
local function advance_head(key, party, offset, digest)
  local current = redis.call('HGET', key, party)
  local at = -1
  if current then at = tonumber(string.match(current, '^(%-?%d+)')) end
  if offset > at then
    redis.call('HSET', key, party, string.format('%d', offset) .. '|' .. digest)
  end
end

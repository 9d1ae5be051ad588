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

local function advance_head(party, offset, hash, id)
  local key = K.head .. party
  if offset > tonumber(redis.call('HGET', key, 'o') or '-1') then
    redis.call('HSET', key, 'o', offset, 'h', hash, 'd', id)
  end
end

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

-- The head: bucket key, field = party, value '<offset>|<digest>' (empty before the party's
-- first event is applied), then one line per work its scoped decisions are about:
-- '@r|<upc>' or '@t|<isrc>' -- off the check path, beside the head.
local function advance_head(key, party, offset, digest)
  local current = redis.call('HGET', key, party) or ''
  local cut = string.find(current, '\n', 1, true)
  local line, works = current, ''
  if cut then line, works = string.sub(current, 1, cut - 1), string.sub(current, cut) end
  local at = tonumber(string.match(line, '^(%-?%d+)')) or -1
  if offset > at then
    redis.call('HSET', key, party, string.format('%d', offset) .. '|' .. digest .. works)
  end
end

local function add_work(key, party, marker)
  local current = redis.call('HGET', key, party) or ''
  local start = 1
  while true do
    local i = string.find(current, '\n' .. marker, start, true)
    if not i then break end
    local after = i + 1 + #marker
    if after > #current or string.sub(current, after, after) == '\n' then return end
    start = after
  end
  redis.call('HSET', key, party, current .. '\n' .. marker)
end

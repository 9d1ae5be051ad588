-- Shared by apply_batch.lua (the materialiser) and note_party_event.lua (the write API,
-- right after Kafka acknowledged a party's event): both move party state only forwards
-- by log offset, so whichever of the two comes second changes nothing.

-- K.delegations .. party: field '<delegate>|<purpose>' = '<offset>|grant' or '<offset>|revoke';
-- the same, seen from the delegate: K.delegators .. delegate, field '<party>|<purpose>'.
local function apply_delegation(party, field, offset, action)
  local key = K.delegations .. party
  local current = redis.call('HGET', key, field)
  if current then
    local at = tonumber(string.match(current, '^(%-?%d+)'))
    if offset == at then return 'duplicate' end
    if offset < at then return 'stale' end
  end
  local value = string.format('%d', offset) .. '|' .. action
  redis.call('HSET', key, field, value)
  local cut = string.find(field, '|', 1, true)
  redis.call('HSET', K.delegators .. string.sub(field, 1, cut - 1),
    party .. '|' .. string.sub(field, cut + 1), value)
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

-- Add marker lines not already after the head: one read and one write however many.
local function add_works(key, party, markers)
  local current = redis.call('HGET', key, party) or ''
  local known, added = {}, {}
  local start = string.find(current, '\n', 1, true)
  while start do
    local stop = string.find(current, '\n', start + 1, true)
    known[string.sub(current, start + 1, (stop or 0) - 1)] = true
    start = stop
  end
  for _, marker in ipairs(markers) do
    if not known[marker] then
      known[marker] = true
      added[#added + 1] = marker
    end
  end
  if #added > 0 then
    redis.call('HSET', key, party, current .. '\n' .. table.concat(added, '\n'))
  end
end

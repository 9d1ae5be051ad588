-- Apply a batch of log records atomically: each decision is merged into its slot by
-- offset (merge_entry: exactly consentry_domain.slots.merge, contract-tested against
-- it), each track record replaces an older one, each touched partition's watermark
-- advances to the highest offset applied, and one message on K.invalidations names
-- every changed party and track. A party's events (decisions and delegations) also
-- advance its chain head, which the write API chains onto. codec.lua and party.lua are
-- prepended when loaded.
--
-- ARGV[1] = the records, as one JSON array (one argument: packing ten arguments per
-- record cost the materialiser more than the rest of its work). Keys and fields are
-- computed by layout.py. Each record is
--   track:      ['t', wm_field, offset, key, field, isrc, upc, status, parties, tail]
--               (tail: '<disclosure>|<facts>', layout.record_tail)
--   decision:   ['d', wm_field, offset, party, group_key, group_field, slot_party, purpose,
--                choice (a|d|w), id, from_ms, until_ms, head_key, digest, marker, in_track]
--               (marker: '' for a party-wide slot, else the line naming its release or
--               track, kept after the party's head; in_track '1': the group follows the
--               track's record line in the track's own value)
--   many:       ['m', wm_field, offset, party, slot_party, purpose, choice, id, from_ms,
--                until_ms, head_key, digest, in_track, {{group_key, group_field, marker}, ...}]
--               (one decision on many works: a slot per work, all at this offset; also
--               a disclosure statement: purpose '!ai', its level as the choice, in each
--               track's own group, with no marker)
--   delegation: ['g', wm_field, offset, party, delegate|purpose, grant|revoke, head_key,
--                digest]
--   skipped:    ['x', wm_field, offset]   (dead-lettered)
-- Returns one outcome per record.

-- A track's value: its record line (empty while only decisions arrived), then its
-- track-scoped slot lines.
local function split_track(value)
  if not value then return '', '' end
  local i = string.find(value, '\n', 1, true)
  if not i then return value, '' end
  return string.sub(value, 1, i - 1), string.sub(value, i + 1)
end

local function join_track(record, slots)
  if slots == '' then return record end
  return record .. '\n' .. slots
end

local function apply_track(key, field, offset, upc, status, parties, tail)
  local record, slots = split_track(redis.call('HGET', key, field))
  if record ~= '' then
    local at = tonumber(string.match(record, '^(%d+)'))
    if offset == at then return 'duplicate' end
    if offset < at then return 'stale' end
  end
  record = string.format('%d', offset) .. '|' .. upc .. '|' .. status .. '|' .. parties .. '|'
    .. tail
  redis.call('HSET', key, field, join_track(record, slots))
  return 'applied'
end

-- Merge one entry into the slot (slot_party, purpose) of the group at key/field.
local function merge_into(key, field, in_track, slot_party, purpose, offset, c, id, from, till)
  local record, value = '', redis.call('HGET', key, field)
  if in_track == '1' then record, value = split_track(value) end
  local group = parse_group(value)
  local outcome = merge_entry(find_slot(group, slot_party, purpose), offset, c, id, from, till)
  if outcome ~= 'applied' then return outcome end
  if in_track == '1' then
    redis.call('HSET', key, field, join_track(record, encode_group(group)))
  else
    redis.call('HSET', key, field, encode_group(group))
  end
  return 'applied'
end

local function apply_decision(r)
  local outcome = merge_into(r[5], r[6], r[16], r[7], r[8], r[3], r[9], r[10], r[11], r[12])
  if outcome == 'applied' and r[15] ~= '' then add_works(r[13], r[4], {r[15]}) end
  return outcome
end

-- Applied when any work's slot changed, else what the first said (consentry_domain's
-- many_outcome); the markers of the changed works are added to the head at once.
local function apply_many(r)
  local first, any, markers = nil, false, {}
  for _, w in ipairs(r[14]) do
    local outcome = merge_into(w[1], w[2], r[13], r[5], r[6], r[3], r[7], r[8], r[9], r[10])
    first = first or outcome
    if outcome == 'applied' then
      any = true
      if w[3] ~= '' then markers[#markers + 1] = w[3] end
    end
  end
  if #markers > 0 then add_works(r[11], r[4], markers) end
  if any then return 'applied' end
  return first
end

local outcomes, marks, changed, tags = {}, {}, {}, {}
for _, r in ipairs(cjson.decode(ARGV[1])) do
  local kind, mark, offset = r[1], r[2], r[3]
  local outcome, tag
  if kind == 'x' then
    outcome = 'skipped'
  elseif kind == 'd' then
    outcome = apply_decision(r)
    tag = K.party_tag .. r[4]
    advance_head(r[13], r[4], offset, r[14])
  elseif kind == 'm' then
    outcome = apply_many(r)
    tag = K.party_tag .. r[4]
    advance_head(r[11], r[4], offset, r[12])
  elseif kind == 'g' then
    outcome = apply_delegation(r[4], r[5], offset, r[6])
    advance_head(r[7], r[4], offset, r[8])
  else
    outcome = apply_track(r[4], r[5], offset, r[7], r[8], r[9], r[10])
    tag = K.track_tag .. r[6]
  end
  outcomes[#outcomes + 1] = outcome
  if outcome == 'applied' and tag and not changed[tag] then
    changed[tag] = true
    tags[#tags + 1] = tag
  end
  if marks[mark] == nil or offset > marks[mark] then marks[mark] = offset end
end
for mark, offset in pairs(marks) do
  local current = tonumber(redis.call('HGET', K.watermarks, mark) or '-1')
  if offset > current then redis.call('HSET', K.watermarks, mark, offset) end
end
if #tags > 0 then redis.call('PUBLISH', K.invalidations, table.concat(tags, ' ')) end
return outcomes

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
--   track:      ['t', wm_field, offset, key, field, isrc, upc, status, parties]
--   decision:   ['d', wm_field, offset, party, group_key, group_field, slot_party, purpose,
--                choice (a|d|w), id, from_ms, until_ms, head_key, digest, marker, in_track]
--               (marker: '' for a party-wide slot, else the line naming its release or
--               track, kept after the party's head; in_track '1': the group follows the
--               track's record line in the track's own value)
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

local function apply_track(key, field, offset, upc, status, parties)
  local record, slots = split_track(redis.call('HGET', key, field))
  if record ~= '' then
    local at = tonumber(string.match(record, '^(%d+)'))
    if offset == at then return 'duplicate' end
    if offset < at then return 'stale' end
  end
  record = string.format('%d', offset) .. '|' .. upc .. '|' .. status .. '|' .. parties
  redis.call('HSET', key, field, join_track(record, slots))
  return 'applied'
end

local function apply_decision(r)
  local key, field = r[5], r[6]
  local record, value = '', redis.call('HGET', key, field)
  if r[16] == '1' then record, value = split_track(value) end
  local group = parse_group(value)
  local outcome = merge_entry(find_slot(group, r[7], r[8]), r[3], r[9], r[10], r[11], r[12])
  if outcome ~= 'applied' then return outcome end
  if r[16] == '1' then
    redis.call('HSET', key, field, join_track(record, encode_group(group)))
  else
    redis.call('HSET', key, field, encode_group(group))
  end
  if r[15] ~= '' then add_work(r[13], r[4], r[15]) end
  return 'applied'
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
  elseif kind == 'g' then
    outcome = apply_delegation(r[4], r[5], offset, r[6])
    advance_head(r[7], r[4], offset, r[8])
  else
    outcome = apply_track(r[4], r[5], offset, r[7], r[8], r[9])
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

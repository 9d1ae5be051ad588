-- Apply a batch of log records atomically: each decision is merged into its slot by
-- offset (exactly consentry_domain.slots.merge, contract-tested against it), each track
-- record replaces an older one, each touched partition's watermark advances to the
-- highest offset applied, and one message on K.invalidations names every changed party/track.
--
-- A party's events (decisions and delegations) also advance the party's chain head
-- the head (K.head, offset, record hash, event id), which the write API chains onto.
-- apply_delegation and advance_head come from party.lua, prepended when loaded.
--
-- ARGV[1] = the records, as one JSON array (one argument: packing ten arguments per
-- record cost the materialiser more than the rest of its work); each record is
--   decision:   ['d', wm_field, offset, party, slot_field, choice, decision_id, from_ms,
--                until_ms, hash]
--   delegation: ['g', wm_field, offset, party, delegate|purpose, grant|revoke, delegation_id,
--                '', '', hash]
--   track:      ['t', wm_field, offset, isrc,  upc, parties (space-separated), status]
--   skipped:    ['x', wm_field, offset]   (dead-lettered)
-- from_ms / until_ms are '' when absent. Returns one outcome per record.

local function apply_decision(party, field, offset, choice, id, from, until_)
  local key = K.party .. party
  local floor, entries = -1, {}
  local current = redis.call('HGET', key, field)
  if current then
    local slot = cjson.decode(current)
    floor = slot.f
    entries = slot.e
  end
  if offset == floor then return 'duplicate' end
  for _, e in ipairs(entries) do
    if e[1] == offset then return 'duplicate' end
  end
  if offset < floor then return 'stale' end
  for _, e in ipairs(entries) do
    if e[3] == id then return 'duplicate' end  -- the same decision sent again
  end

  local from_ms, until_ms = cjson.null, cjson.null
  if from ~= '' then from_ms = tonumber(from) end
  if until_ ~= '' then until_ms = tonumber(until_) end
  local merged = {}
  if choice == 'withdrawn' or (from == '' and until_ == '') then
    floor = offset
    if choice ~= 'withdrawn' then merged[1] = {offset, choice, id, from_ms, until_ms} end
    for _, e in ipairs(entries) do
      if e[1] > offset then merged[#merged + 1] = e end
    end
  else
    for _, e in ipairs(entries) do merged[#merged + 1] = e end
    merged[#merged + 1] = {offset, choice, id, from_ms, until_ms}
  end
  table.sort(merged, function(a, b) return a[1] < b[1] end)
  local encoded
  if #merged == 0 then
    encoded = '{"f":' .. string.format('%d', floor) .. ',"e":[]}'
  else
    encoded = cjson.encode({f = floor, e = merged})
  end
  redis.call('HSET', key, field, encoded)
  return 'applied'
end

local function apply_track(isrc, offset, upc, parties, status)
  local key = K.track .. isrc
  local current = tonumber(redis.call('HGET', key, 'o') or '-1')
  if offset == current then return 'duplicate' end
  if offset < current then return 'stale' end
  redis.call('HSET', key, 'o', offset, 'u', upc, 'p', parties, 's', status)
  return 'applied'
end

local outcomes, marks, changed, tags = {}, {}, {}, {}
for _, r in ipairs(cjson.decode(ARGV[1])) do
  local kind, mark, offset = r[1], r[2], r[3]
  local outcome, tag
  if kind == 'x' then
    outcome = 'skipped'
  elseif kind == 'd' then
    outcome = apply_decision(r[4], r[5], offset, r[6], r[7], r[8], r[9])
    tag = K.party_tag .. r[4]
    advance_head(r[4], offset, r[10], r[7])
  elseif kind == 'g' then
    outcome = apply_delegation(r[4], r[5], offset, r[6])
    advance_head(r[4], offset, r[10], r[7])
  else
    outcome = apply_track(r[4], offset, r[5], r[6], r[7])
    tag = K.track_tag .. r[4]
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

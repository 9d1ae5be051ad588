-- Merge one decision into its slot and advance the partition watermark, atomically.
-- Mirrors consentry_domain.slots.merge exactly (contract-tested against it).
-- KEYS[1] party hash, KEYS[2] watermark hash
-- ARGV: field, offset, choice, decision_id, from_ms ('' = none), until_ms ('' = none), wm_field,
--       party
-- A windowed decision also schedules its boundaries in the 'cs:due' sorted set, so the
-- enforcer re-evaluates the affected tracks when the window opens or closes.
local offset = tonumber(ARGV[2])
local choice = ARGV[3]
local floor, entries = -1, {}
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local slot = cjson.decode(current)
  floor = slot.f
  entries = slot.e
end

local outcome = 'applied'
if offset == floor then
  outcome = 'duplicate'
else
  for _, e in ipairs(entries) do
    if e[1] == offset then outcome = 'duplicate' end
  end
end
if outcome == 'applied' and offset < floor then outcome = 'stale' end

if outcome == 'applied' then
  local from_ms = cjson.null
  local until_ms = cjson.null
  if ARGV[5] ~= '' then from_ms = tonumber(ARGV[5]) end
  if ARGV[6] ~= '' then until_ms = tonumber(ARGV[6]) end
  local shadows = choice == 'withdrawn' or (ARGV[5] == '' and ARGV[6] == '')
  local merged = {}
  if shadows then
    floor = offset
    if choice ~= 'withdrawn' then
      merged[1] = {offset, choice, ARGV[4], from_ms, until_ms}
    end
    for _, e in ipairs(entries) do
      if e[1] > offset then merged[#merged + 1] = e end
    end
  else
    for _, e in ipairs(entries) do merged[#merged + 1] = e end
    merged[#merged + 1] = {offset, choice, ARGV[4], from_ms, until_ms}
  end
  table.sort(merged, function(a, b) return a[1] < b[1] end)
  local encoded
  if #merged == 0 then
    encoded = '{"f":' .. string.format('%d', floor) .. ',"e":[]}'
  else
    encoded = cjson.encode({f = floor, e = merged})
  end
  redis.call('HSET', KEYS[1], ARGV[1], encoded)
  redis.call('PUBLISH', 'cs:inv', 'p:' .. ARGV[8])
  for _, boundary in ipairs({ARGV[5], ARGV[6]}) do
    if boundary ~= '' then
      redis.call('ZADD', 'cs:due', tonumber(boundary), boundary .. '|' .. ARGV[8] .. '|' .. ARGV[1])
    end
  end
end

local mark = tonumber(redis.call('HGET', KEYS[2], ARGV[7]) or '-1')
if offset > mark then redis.call('HSET', KEYS[2], ARGV[7], offset) end
return outcome

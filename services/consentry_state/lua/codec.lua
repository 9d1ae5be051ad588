-- The text of slot groups (layout.py's twin; a contract test replays random histories
-- through both): lines '<party>|<purpose>|<floor>|<entries>', entries ';'-separated
-- '<offset>,<a|d>,<id>,<from_ms>,<until_ms>' ascending by offset.

local function split(text, sep)
  local out = {}
  if text == nil or text == '' then return out end
  local start = 1
  while true do
    local i = string.find(text, sep, start, true)
    if not i then
      out[#out + 1] = string.sub(text, start)
      return out
    end
    out[#out + 1] = string.sub(text, start, i - 1)
    start = i + 1
  end
end

-- A group's value -> {slots = {{party, purpose, floor, entries = {{offset, c, id, from, until}}}}}
local function parse_group(value)
  local group = {slots = {}}
  for _, line in ipairs(split(value or '', '\n')) do
    local party, purpose, floor, entries = string.match(line, '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
    local slot = {party = party, purpose = purpose, floor = tonumber(floor), entries = {}}
    for _, e in ipairs(split(entries, ';')) do
      local f = split(e, ',')
      slot.entries[#slot.entries + 1] = {tonumber(f[1]), f[2], f[3], f[4], f[5]}
    end
    group.slots[#group.slots + 1] = slot
  end
  return group
end

local function encode_group(group)
  local lines = {}
  for _, slot in ipairs(group.slots) do
    local entries = {}
    for _, e in ipairs(slot.entries) do
      entries[#entries + 1] = string.format('%d', e[1]) .. ',' .. e[2] .. ',' .. e[3] .. ','
        .. e[4] .. ',' .. e[5]
    end
    lines[#lines + 1] = slot.party .. '|' .. slot.purpose .. '|' .. string.format('%d', slot.floor)
      .. '|' .. table.concat(entries, ';')
  end
  return table.concat(lines, '\n')
end

local function find_slot(group, party, purpose)
  for _, slot in ipairs(group.slots) do
    if slot.party == party and slot.purpose == purpose then return slot end
  end
  local slot = {party = party, purpose = purpose, floor = -1, entries = {}}
  group.slots[#group.slots + 1] = slot
  return slot
end

-- Merge one decision into its slot: exactly consentry_domain.slots.merge.
-- choice is 'a', 'd' or 'w' (withdrawn); from/until '' when absent.
local function merge_entry(slot, offset, choice, id, from, until_)
  if offset == slot.floor then return 'duplicate' end
  for _, e in ipairs(slot.entries) do
    if e[1] == offset then return 'duplicate' end
  end
  if offset < slot.floor then return 'stale' end
  for _, e in ipairs(slot.entries) do
    if e[3] == id then return 'duplicate' end  -- the same decision sent again
  end
  local merged = {}
  if choice == 'w' or (from == '' and until_ == '') then
    slot.floor = offset
    if choice ~= 'w' then merged[1] = {offset, choice, id, from, until_} end
    for _, e in ipairs(slot.entries) do
      if e[1] > offset then merged[#merged + 1] = e end
    end
  else
    for _, e in ipairs(slot.entries) do merged[#merged + 1] = e end
    merged[#merged + 1] = {offset, choice, id, from, until_}
  end
  table.sort(merged, function(a, b) return a[1] < b[1] end)
  slot.entries = merged
  return 'applied'
end

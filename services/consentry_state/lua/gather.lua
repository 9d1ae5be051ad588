-- Everything needed to resolve a batch of tracks, in one round trip: one HMGET per
-- distinct track bucket (a track's record and its track-scoped decisions), then one for
-- all the batch's releases and one for all its parties -- each distinct one once.
-- ARGV: wm_field ('' = none), the ISRCs space-separated (one argument: packing a
-- hundred of them cost the client more than the script)
-- Returns {fresh_ms|false, watermark|false, layout|false, tracks, releases, parties}:
-- tracks in the order of the ISRCs (false where none); releases and parties flat lists
-- of name, group for those that have decisions.
local hb = false
for _, value in ipairs(redis.call('HVALS', K.freshness)) do
  local ms = tonumber(value)
  if hb == false or ms < hb then hb = ms end
end
local wm = false
if ARGV[1] ~= '' then wm = redis.call('HGET', K.watermarks, ARGV[1]) end
local layout = redis.call('GET', K.layout)

-- items -> values, one HMGET per distinct key; place(item) gives (key, field)
local function fetch(items, place)
  local by_key, order = {}, {}
  for i, item in ipairs(items) do
    local key, field = place(item)
    local b = by_key[key]
    if not b then
      b = {fields = {}, index = {}}
      by_key[key] = b
      order[#order + 1] = key
    end
    b.fields[#b.fields + 1] = field
    b.index[#b.index + 1] = i
  end
  local values = {}
  for _, key in ipairs(order) do
    local b = by_key[key]
    local got = redis.call('HMGET', key, unpack(b.fields))
    for j, i in ipairs(b.index) do values[i] = got[j] end
  end
  return values
end

local isrcs = {}
for isrc in string.gmatch(ARGV[2], '%S+') do isrcs[#isrcs + 1] = isrc end
local tracks = fetch(isrcs, function(isrc)
  return K.tracks .. string.sub(isrc, 1, 10), string.sub(isrc, 11)
end)

-- Each track record is '<offset>|<upc>|<status>|<party> <party> ...|<disclosure>|<facts>'
-- (then '\n' and its slot lines): plain finds, no patterns -- this loop is most of the
-- script's time.
local upcs, parties, seen_upc, seen_party = {}, {}, {}, {}
local find, sub = string.find, string.sub
for i = 1, #isrcs do
  local t = tracks[i]
  if t then
    local a = find(t, '|', 1, true)
    if a and a > 1 then
      local b = find(t, '|', a + 1, true)
      local c = find(t, '|', b + 1, true)
      local upc = sub(t, a + 1, b - 1)
      if not seen_upc[upc] then
        seen_upc[upc] = true
        upcs[#upcs + 1] = upc
      end
      local stop = (find(t, '|', c + 1, true) or find(t, '\n', c + 1, true) or (#t + 1)) - 1
      local start = c + 1
      while start <= stop do
        local space = find(t, ' ', start, true)
        local last = (space and space <= stop) and (space - 1) or stop
        local p = sub(t, start, last)
        if not seen_party[p] then
          seen_party[p] = true
          parties[#parties + 1] = p
        end
        start = last + 2
      end
    end
  end
end
-- Only the releases and parties that have decisions come back (most have none).
local function having(hash, names)
  local found = {}
  if #names == 0 then return found end
  local groups = redis.call('HMGET', hash, unpack(names))
  for i, group in ipairs(groups) do
    if group then
      found[#found + 1] = names[i]
      found[#found + 1] = group
    end
  end
  return found
end
return {hb, wm, layout, tracks, having(K.release_decisions, upcs),
        having(K.party_decisions, parties)}

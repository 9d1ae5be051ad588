-- Everything needed to resolve a batch of tracks for one purpose, in one round trip.
-- ARGV: wm_field ('' = none), n (number of purpose paths), path_1..path_n, isrc_1..isrc_m
-- Returns {fresh_ms|false, watermark|false, track_1, ..., track_m} where fresh_ms is the
-- least fresh partition's "complete up to" time (K.freshness), and track_i is
-- {} when unknown, else {upc, status, parties, slots_of_party_1, ...} and each
-- slots_of_party is the HMGET of the 3*n fields (scopes p, r, t by paths).
local hb = false
for _, value in ipairs(redis.call('HVALS', K.freshness)) do
  local ms = tonumber(value)
  if hb == false or ms < hb then hb = ms end
end
local wm = false
if ARGV[1] ~= '' then wm = redis.call('HGET', K.watermarks, ARGV[1]) end
local n = tonumber(ARGV[2])
local out = {hb, wm}
for i = n + 3, #ARGV do
  local isrc = ARGV[i]
  local t = redis.call('HMGET', K.track .. isrc, 'u', 's', 'p')
  if not t[1] then
    out[#out + 1] = {}
  else
    local row = {t[1], t[2], t[3]}
    for party in string.gmatch(t[3], '%S+') do
      local fields = {}
      for p = 3, n + 2 do fields[#fields + 1] = 'p||' .. ARGV[p] end
      for p = 3, n + 2 do fields[#fields + 1] = 'r|' .. t[1] .. '|' .. ARGV[p] end
      for p = 3, n + 2 do fields[#fields + 1] = 't|' .. isrc .. '|' .. ARGV[p] end
      row[#row + 1] = redis.call('HMGET', K.party .. party, unpack(fields))
    end
    out[#out + 1] = row
  end
end
return out

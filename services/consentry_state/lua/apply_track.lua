-- Replace a track record if this catalogue offset is newer, keep the party -> tracks and
-- release -> tracks indexes in step, and advance the watermark; all atomically.
-- KEYS[1] track hash, KEYS[2] watermark hash
-- ARGV: offset, upc, parties (space-separated), status, wm_field, isrc
local offset = tonumber(ARGV[1])
local old = redis.call('HMGET', KEYS[1], 'o', 'u', 'p')
local current = tonumber(old[1] or '-1')
local outcome = 'applied'
if offset == current then
  outcome = 'duplicate'
elseif offset < current then
  outcome = 'stale'
else
  local isrc = ARGV[6]
  local keep = {}
  for party in string.gmatch(ARGV[3], '%S+') do keep[party] = true end
  if old[3] then
    for party in string.gmatch(old[3], '%S+') do
      if not keep[party] then redis.call('SREM', 'cs:pt:' .. party, isrc) end
    end
  end
  for party in pairs(keep) do redis.call('SADD', 'cs:pt:' .. party, isrc) end
  if old[2] and old[2] ~= ARGV[2] then redis.call('SREM', 'cs:rt:' .. old[2], isrc) end
  redis.call('SADD', 'cs:rt:' .. ARGV[2], isrc)
  redis.call('HSET', KEYS[1], 'o', offset, 'u', ARGV[2], 'p', ARGV[3], 's', ARGV[4])
  redis.call('PUBLISH', 'cs:inv', 't:' .. isrc)
end
local mark = tonumber(redis.call('HGET', KEYS[2], ARGV[5]) or '-1')
if offset > mark then redis.call('HSET', KEYS[2], ARGV[5], offset) end
return outcome

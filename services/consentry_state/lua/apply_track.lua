-- Replace a track record if this catalogue offset is newer; advance the watermark.
-- KEYS[1] track hash, KEYS[2] watermark hash
-- ARGV: offset, upc, parties (space-separated), status, wm_field
local offset = tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'o') or '-1')
local outcome = 'applied'
if offset == current then
  outcome = 'duplicate'
elseif offset < current then
  outcome = 'stale'
else
  redis.call('HSET', KEYS[1], 'o', offset, 'u', ARGV[2], 'p', ARGV[3], 's', ARGV[4])
end
local mark = tonumber(redis.call('HGET', KEYS[2], ARGV[5]) or '-1')
if offset > mark then redis.call('HSET', KEYS[2], ARGV[5], offset) end
return outcome

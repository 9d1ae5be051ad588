-- A token bucket: take up to ARGV[4] tokens from the bucket at key ARGV[1] (a hash:
-- tokens, at), refilled at ARGV[2] tokens a second up to ARGV[3] by the server's clock,
-- so every instance of a service shares one bucket per principal. Returns
-- {tokens granted, ms until one token is there when none was granted, else 0}.
local key = ARGV[1]
local rate, burst, want = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local found = redis.call('HMGET', key, 'tokens', 'at')
local tokens = tonumber(found[1]) or burst
local at = tonumber(found[2]) or now
if now > at then tokens = math.min(burst, tokens + (now - at) * rate / 1000) end
local granted = math.min(want, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', key, math.ceil(burst * 1000 / rate) + 1000)
local wait = 0
if granted == 0 then wait = math.max(1, math.ceil((1 - tokens) * 1000 / rate)) end
return {granted, wait}

-- Write the heartbeat only while the state is complete: after Redis lost its data
-- (cs:ready gone), checks must find no heartbeat and answer 'unverifiable'.
-- ARGV[1] = now in epoch milliseconds
if redis.call('EXISTS', 'cs:ready') == 1 then
  redis.call('SET', 'cs:hb', ARGV[1])
  return 1
end
return 0

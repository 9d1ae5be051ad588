-- Record how fresh each partition's state is -- only while the state is complete: after
-- Redis lost its data (K.ready gone), checks must find nothing and answer 'unverifiable'.
-- ARGV: field_1, ms_1, field_2, ms_2, ...  (field '<topic>:<partition>', ms = the time up
-- to which that partition's state is known complete)
if redis.call('EXISTS', K.ready) == 1 then
  if #ARGV > 0 then redis.call('HSET', K.freshness, unpack(ARGV)) end
  return 1
end
return 0

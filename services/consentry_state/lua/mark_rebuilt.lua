-- Record that partitions were rebuilt in this epoch; when every partition of the logs
-- is, declare the state complete, in this layout. Nothing happens if the epoch changed
-- meanwhile (Redis lost its data again), so an empty state is never declared complete.
-- ARGV: epoch, total partitions, layout version, then the partition fields rebuilt
if redis.call('GET', K.epoch) ~= ARGV[1] then return -1 end
local key = K.rebuilt .. ARGV[1]
for i = 4, #ARGV do redis.call('HSET', key, ARGV[i], 1) end
local done = redis.call('HLEN', key)
if done >= tonumber(ARGV[2]) then
  redis.call('SET', K.ready, ARGV[1])
  redis.call('SET', K.layout, ARGV[3])
  redis.call('DEL', key)
  return 1
end
return 0

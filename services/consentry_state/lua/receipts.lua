-- A batch of downstream bookkeeping, atomically and idempotently (a redelivered batch
-- changes nothing). ARGV: one operation per argument, fields split by '|':
--   n|<cause>|<partition>|<offset>|<ms>    the feed carried a change of <cause> there
--                                          (counted once: K.rc_counted keeps, per feed
--                                          partition, the last offset counted)
--   c|<system>|<change>|<cause>|<due ms>   a change <system> must acknowledge by <due>
--   r|<system>|<change>|<status>|<ms>|<reason>   <system>'s receipt for <change>
-- Per system, K.rc_changes..system holds each change: 'P|<cause>|<due>' while pending,
-- 'F|<cause>|<status>|<ms>|<reason>' once acknowledged; K.rc_due..system the pending
-- ones by due time; K.rc_early..system receipts that came before their change (the two
-- topics are read apart). K.rc_decision..cause counts, per decision: 'changed', and per
-- system '<system>|pending', '<system>|done', '<system>|not_held', '<system>|failed',
-- '<system>|last' (the latest receipt's ms).
local function split(text)
  local parts = {}
  for part in string.gmatch(text .. '|', '([^|]*)|') do parts[#parts + 1] = part end
  return parts
end

local function count(cause, field, by)
  redis.call('HINCRBY', K.rc_decision .. cause, field, by)
end

local function received(system, change, cause, status, ms, reason)
  local decision = K.rc_decision .. cause
  redis.call('HSET', K.rc_changes .. system, change,
    'F|' .. cause .. '|' .. status .. '|' .. ms .. '|' .. reason)
  count(cause, system .. '|' .. status, 1)
  local last = tonumber(redis.call('HGET', decision, system .. '|last') or '0')
  if tonumber(ms) > last then redis.call('HSET', decision, system .. '|last', ms) end
end

local counted = {}
for i = 1, #ARGV do
  local op = split(ARGV[i])
  if op[1] == 'n' then
    local partition, offset = op[3], tonumber(op[4])
    if counted[partition] == nil then
      counted[partition] = tonumber(redis.call('HGET', K.rc_counted, partition) or '-1')
    end
    if offset > counted[partition] then
      counted[partition] = offset
      local decision = K.rc_decision .. op[2]
      redis.call('HINCRBY', decision, 'changed', 1)
      redis.call('HSETNX', decision, 'first_ms', op[5])
      local last = tonumber(redis.call('HGET', decision, 'last_ms') or '0')
      if tonumber(op[5]) > last then redis.call('HSET', decision, 'last_ms', op[5]) end
    end
  elseif op[1] == 'c' then
    local system, change, cause, due = op[2], op[3], op[4], op[5]
    if redis.call('HEXISTS', K.rc_changes .. system, change) == 0 then
      local early = redis.call('HGET', K.rc_early .. system, change)
      if early then
        local r = split(early)
        redis.call('HDEL', K.rc_early .. system, change)
        received(system, change, cause, r[1], r[2], r[3])
      else
        redis.call('HSET', K.rc_changes .. system, change, 'P|' .. cause .. '|' .. due)
        redis.call('ZADD', K.rc_due .. system, due, change)
        count(cause, system .. '|pending', 1)
      end
    end
  elseif op[1] == 'r' then
    local system, change, status, ms, reason = op[2], op[3], op[4], op[5], op[6]
    local now = redis.call('HGET', K.rc_changes .. system, change)
    if not now then
      redis.call('HSET', K.rc_early .. system, change, status .. '|' .. ms .. '|' .. reason)
    else
      local was = split(now)
      if was[1] == 'P' then
        redis.call('ZREM', K.rc_due .. system, change)
        count(was[2], system .. '|pending', -1)
        received(system, change, was[2], status, ms, reason)
      elseif was[3] ~= status then
        count(was[2], system .. '|' .. was[3], -1)
        received(system, change, was[2], status, ms, reason)
      end
    end
  end
end
for partition, offset in pairs(counted) do
  redis.call('HSET', K.rc_counted, partition, offset)
end
return #ARGV

-- Release a party's write lock if it is still this write's (a lock that expired and
-- was taken by another write is left alone). ARGV: lock key, token. Returns 1 if released.
if redis.call('GET', ARGV[1]) == ARGV[2] then return redis.call('DEL', ARGV[1]) end
return 0

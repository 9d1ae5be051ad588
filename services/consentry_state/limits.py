"""Rate limits' token buckets, one per principal, in the enforcer's store (user
``limiter``): every instance of a service takes from the same bucket, by Redis's clock
(``lua/take.lua``)."""

from __future__ import annotations

from redis.asyncio import Redis

from consentry_state import keys
from consentry_state.scripts import TAKE, run


class RateBuckets:
    def __init__(self, store: Redis) -> None:
        self._store = store

    async def take(self, principal: str, per_s: float, burst: int, want: int) -> tuple[int, int]:
        """Up to ``want`` tokens of ``principal``'s bucket (refilled ``per_s`` a second up
        to ``burst``): (granted, ms until a token is there when none was)."""
        reply = await run(self._store, TAKE, keys.limit_key(principal), str(per_s), burst, want)
        if not isinstance(reply, list):
            raise TypeError(f"unexpected reply {reply!r}")
        granted, wait_ms = reply
        return int(granted), int(wait_ms)

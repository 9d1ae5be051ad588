"""The write API's per-party write lock, across write API instances."""

from __future__ import annotations

import contextlib

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

from consentry_state import keys


class PartyLock:
    def __init__(self, redis: Redis, party: str, *, ttl_s: float, wait_s: float) -> None:
        self._lock: Lock = redis.lock(
            keys.lock_key(party), timeout=ttl_s, blocking_timeout=wait_s, thread_local=False
        )

    async def acquire(self) -> bool:
        """Wait up to ``wait_s`` for the lock; False if another write still holds it."""
        return bool(await self._lock.acquire())

    async def release(self) -> None:
        """Release if still ours; a lock that expired or a Redis gone is left to its TTL."""
        with contextlib.suppress(LockError, RedisError):
            await self._lock.release()

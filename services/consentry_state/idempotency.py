"""Idempotency-Key records: one Redis string per (principal, key), JSON, with a TTL.

What the states mean and when each is written is ``consentry_domain.writes``' business;
this module stores them.
"""

from __future__ import annotations

import hashlib

import orjson
from redis.asyncio import Redis

from consentry_domain.writes import IdempotencyRecord, KeyState
from consentry_state import keys


def _dumps(record: IdempotencyRecord) -> bytes:
    return orjson.dumps(
        {
            "s": record.state.value,
            "f": record.fingerprint,
            "id": record.event_id,
            "t": record.started_ms,
            "r": record.response,
        }
    )


def _loads(raw: bytes | str) -> IdempotencyRecord:
    data = orjson.loads(raw)
    return IdempotencyRecord(KeyState(data["s"]), data["f"], data["id"], data["t"], data.get("r"))


class IdempotencyRecords:
    def __init__(self, redis: Redis, ttl_s: int) -> None:
        self._redis = redis
        self._ttl_s = ttl_s

    @staticmethod
    def key_of(principal: str, idempotency_key: str) -> str:
        """Where one principal's Idempotency-Key is kept (keys of two principals never meet)."""
        digest = hashlib.sha256(f"{principal}\0{idempotency_key}".encode()).hexdigest()
        return keys.idempotency_key(digest)

    async def claim(self, key: str, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Store ``record`` unless the key has one already; then return that one."""
        while True:
            if await self._redis.set(key, _dumps(record), nx=True, ex=self._ttl_s):
                return None
            raw = await self._redis.get(key)
            if raw is not None:
                return _loads(raw)

    async def get(self, key: str) -> IdempotencyRecord | None:
        raw = await self._redis.get(key)
        return None if raw is None else _loads(raw)

    async def put(self, key: str, record: IdempotencyRecord) -> None:
        await self._redis.set(key, _dumps(record), ex=self._ttl_s)

    async def forget(self, key: str) -> None:
        await self._redis.delete(key)

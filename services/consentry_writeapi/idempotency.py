"""Idempotency-Key records: a retried write returns the first answer, and no second event.

One Redis string per (principal, key), JSON, expiring after the configured TTL:

* ``pending`` -- a request with this key is being written (``t``: since when);
* ``unknown`` -- its write's outcome is unknown (the broker did not answer in time);
  the next attempt reads the log under the party's lock to find out;
* ``done`` -- the first answer (``r``), returned again as it was.

``f`` fingerprints the request (route and body), so a key reused for a different
request is refused instead of silently answering for the first one.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from enum import StrEnum

import orjson
from redis.asyncio import Redis


class State(StrEnum):
    PENDING = "pending"
    UNKNOWN = "unknown"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Record:
    state: State
    fingerprint: str
    event_id: str
    started_ms: int
    response: dict[str, object] | None = None

    def dumps(self) -> bytes:
        return orjson.dumps(
            {
                "s": self.state.value,
                "f": self.fingerprint,
                "id": self.event_id,
                "t": self.started_ms,
                "r": self.response,
            }
        )

    @classmethod
    def loads(cls, raw: bytes | str) -> Record:
        data = orjson.loads(raw)
        return cls(State(data["s"]), data["f"], data["id"], data["t"], data.get("r"))


def fingerprint(route: str, body: object) -> str:
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(route.encode() + b"\0" + canonical).hexdigest()


@dataclass(frozen=True, slots=True)
class Attempt:
    """One request's handle on its idempotency record."""

    store: IdempotencyStore
    key: str
    fingerprint: str

    async def begin(self, event_id: str) -> Record | None:
        """Claim the key for ``event_id``; the earlier record when the key was used before."""
        return await self.store.begin(self.key, self.fingerprint, event_id)

    async def get(self) -> Record | None:
        return await self.store.get(self.key)

    async def finish(self, event_id: str, response: dict[str, object]) -> None:
        await self.store.put(self.key, Record(State.DONE, self.fingerprint, event_id, 0, response))

    async def unknown(self, event_id: str) -> None:
        now = int(time.time() * 1000)
        await self.store.put(self.key, Record(State.UNKNOWN, self.fingerprint, event_id, now))

    async def forget(self) -> None:
        await self.store.forget(self.key)


class IdempotencyStore:
    def __init__(self, redis: Redis, ttl_s: int) -> None:
        self._redis = redis
        self._ttl_s = ttl_s

    def attempt(self, principal: str, idempotency_key: str, fingerprint: str) -> Attempt:
        digest = hashlib.sha256(f"{principal}\0{idempotency_key}".encode()).hexdigest()
        return Attempt(self, f"cs:idem:{digest}", fingerprint)

    async def begin(self, key: str, fingerprint: str, event_id: str) -> Record | None:
        fresh = Record(State.PENDING, fingerprint, event_id, int(time.time() * 1000))
        while True:
            if await self._redis.set(key, fresh.dumps(), nx=True, ex=self._ttl_s):
                return None
            raw = await self._redis.get(key)
            if raw is not None:
                return Record.loads(raw)

    async def get(self, key: str) -> Record | None:
        raw = await self._redis.get(key)
        return None if raw is None else Record.loads(raw)

    async def put(self, key: str, record: Record) -> None:
        await self._redis.set(key, record.dumps(), ex=self._ttl_s)

    async def forget(self, key: str) -> None:
        await self._redis.delete(key)

"""The idempotency path every write takes first (decisions, delegations and tracks).

A request with an Idempotency-Key claims the key before writing; what an earlier claim
means is decided by ``consentry_domain.writes``; the records are kept by
``consentry_state.IdempotencyRecords``.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from dataclasses import dataclass

import orjson
from redis.exceptions import RedisError

from consentry_domain.writes import (
    IdempotencyRecord,
    KeyState,
    Replay,
    Write,
    after_failed_produce,
    on_earlier_attempt,
)
from consentry_state import IdempotencyRecords
from consentry_writeapi.errors import PublishError, WriteOutcome


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def fingerprint(route: str, body: object) -> str:
    """The request as the key remembers it: route and canonical body."""
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(route.encode() + b"\0" + canonical).hexdigest()


@dataclass(frozen=True, slots=True)
class Attempt:
    """One request's handle on its Idempotency-Key record."""

    records: IdempotencyRecords
    key: str
    fingerprint: str

    async def begin(self, event_id: str) -> IdempotencyRecord | None:
        """Claim the key for ``event_id``; the earlier record when the key was used before."""
        fresh = IdempotencyRecord(KeyState.PENDING, self.fingerprint, event_id, _now_ms())
        return await self.records.claim(self.key, fresh)

    async def get(self) -> IdempotencyRecord | None:
        return await self.records.get(self.key)

    async def finish(self, event_id: str, response: dict[str, object]) -> None:
        done = IdempotencyRecord(KeyState.DONE, self.fingerprint, event_id, 0, response)
        await self.records.put(self.key, done)

    async def unknown(self, event_id: str) -> None:
        record = IdempotencyRecord(KeyState.UNKNOWN, self.fingerprint, event_id, _now_ms())
        await self.records.put(self.key, record)

    async def forget(self) -> None:
        await self.records.forget(self.key)


async def claim(attempt: Attempt | None, event_id: str, in_flight_limit_s: float) -> Replay | Write:
    """Write with ``event_id``, or with an earlier attempt's id, or answer its answer again.

    Raises the domain's ``IdempotencyKeyReused`` / ``IdempotencyKeyInFlight``."""
    if attempt is None:
        return Write(event_id)
    prior = await attempt.begin(event_id)
    if prior is None:
        return Write(event_id)
    return on_earlier_attempt(prior, attempt.fingerprint, _now_ms(), in_flight_limit_s * 1000)


async def after_failure(attempt: Attempt | None, exc: PublishError, event_id: str) -> bool:
    """Record what a failed produce means for the key; True when the intent may go."""
    then = after_failed_produce(False if exc.outcome is WriteOutcome.NOT_WRITTEN else None)
    if attempt is not None:
        with contextlib.suppress(RedisError):
            if then.forget_key:
                await attempt.forget()
            if then.mark_unknown:
                await attempt.unknown(event_id)
    return then.clear_intent

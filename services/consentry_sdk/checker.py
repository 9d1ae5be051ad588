"""ConsentChecker: one Redis round trip per check or batch, resolution in process."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.exceptions import RedisError

from consentry_domain import Answer, Basis, Taxonomy, load_taxonomy, resolve
from consentry_domain.answers import refusal
from consentry_sdk.settings import CheckSettings
from consentry_state import StateReader

log = logging.getLogger(__name__)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class ConsentChecker:
    def __init__(
        self,
        reader: StateReader,
        taxonomy: Taxonomy,
        *,
        heartbeat_bound_ms: int = 5_000,
        clock_ms: Callable[[], int] = _now_ms,
    ) -> None:
        self._reader = reader
        self._taxonomy = taxonomy
        self._bound_ms = heartbeat_bound_ms
        self._clock_ms = clock_ms

    @property
    def taxonomy(self) -> Taxonomy:
        return self._taxonomy

    async def check(self, isrc: str, purpose: str) -> Answer:
        """May track ``isrc`` be used for ``purpose`` now?"""
        return (await self.check_many([isrc], purpose))[isrc]

    async def check_many(self, isrcs: Sequence[str], purpose: str) -> dict[str, Answer]:
        """Answers for a batch of tracks, all from one Redis round trip."""
        if not self._taxonomy.knows(purpose):
            return {isrc: refusal(isrc, purpose, Basis.UNKNOWN_PURPOSE) for isrc in isrcs}
        try:
            snapshot = await self._reader.gather(isrcs, purpose)
        except (RedisError, OSError) as exc:
            log.warning("consent unverifiable, Redis failed: %s", exc)
            return {isrc: refusal(isrc, purpose, Basis.UNVERIFIABLE) for isrc in isrcs}
        now = self._clock_ms()
        if not self._fresh(snapshot.heartbeat_ms, now):
            return {isrc: refusal(isrc, purpose, Basis.UNVERIFIABLE) for isrc in isrcs}
        answers: dict[str, Answer] = {}
        for isrc, view in snapshot.tracks.items():
            if view is None:
                answers[isrc] = resolve(isrc, purpose, None, {}, self._taxonomy, now)
            else:
                answers[isrc] = resolve(
                    isrc, purpose, view.track, view.candidates, self._taxonomy, now
                )
        return answers

    async def verifiable(self) -> bool:
        """True when Redis answers and the materialiser's heartbeat is within the bound."""
        try:
            snapshot = await self._reader.gather([], "ai")
        except (RedisError, OSError):
            return False
        return self._fresh(snapshot.heartbeat_ms, self._clock_ms())

    def _fresh(self, heartbeat_ms: int | None, now_ms: int) -> bool:
        return heartbeat_ms is not None and now_ms - heartbeat_ms <= self._bound_ms


def redis_for_checks(settings: CheckSettings) -> Redis:
    return Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_timeout_s,
        socket_connect_timeout=settings.redis_timeout_s,
    )


@asynccontextmanager
async def connect(settings: CheckSettings) -> AsyncIterator[ConsentChecker]:
    """A checker on its own Redis connection pool, closed on exit."""
    redis = redis_for_checks(settings)
    try:
        yield ConsentChecker(
            StateReader(redis),
            load_taxonomy(settings.purposes_file),
            heartbeat_bound_ms=int(settings.heartbeat_bound_s * 1000),
        )
    finally:
        await redis.aclose()

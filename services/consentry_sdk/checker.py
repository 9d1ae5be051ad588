"""ConsentChecker: an in-process cache in front of one Redis round trip per check or batch."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from consentry_domain import Answer, Basis, Reason, Taxonomy, load_taxonomy, resolve
from consentry_domain.answers import refusal
from consentry_events.tokens import Token, parse_token
from consentry_sdk.cache import AnswerCache
from consentry_sdk.cancelling import honour_cancellation
from consentry_sdk.coalesce import Coalescer
from consentry_sdk.invalidation import listen
from consentry_sdk.metrics import REDIS_BATCH, REDIS_SINGLE
from consentry_sdk.settings import CheckSettings
from consentry_state import Snapshot, StateReader, TrackView, keys

log = logging.getLogger(__name__)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Health:
    """What the check side can vouch for right now."""

    redis_reachable: bool
    heartbeat_age_s: float | None
    heartbeat_fresh: bool
    cache_live: bool

    @property
    def verifiable(self) -> bool:
        return self.redis_reachable and self.heartbeat_fresh


def _next_boundary_ms(view: TrackView, now_ms: int) -> int | None:
    """The next instant at which a decision window in ``view`` opens or closes."""
    upcoming = [
        moment
        for slots in view.candidates.values()
        for _, slot in slots
        for entry in slot.entries
        for moment in (entry.effective_from_ms, entry.expires_at_ms)
        if moment is not None and moment > now_ms
    ]
    return min(upcoming, default=None)


class ConsentChecker:
    def __init__(
        self,
        reader: StateReader,
        taxonomy: Taxonomy,
        *,
        heartbeat_bound_ms: int = 5_000,
        cache: AnswerCache | None = None,
        token_wait_s: float = 2.0,
        clock_ms: Callable[[], int] = _now_ms,
    ) -> None:
        self._reader = reader
        self._taxonomy = taxonomy
        self._bound_ms = heartbeat_bound_ms
        self._cache = cache
        self._token_wait_s = token_wait_s
        self._clock_ms = clock_ms
        self._coalescer = Coalescer(lambda isrcs, purpose: self._answers(isrcs, purpose, None))
        self.answer_counts: Counter[tuple[str, str]] = Counter()
        """(purpose, allow|deny|pending|unverifiable) -> answers given; see metrics."""

    @property
    def cache(self) -> AnswerCache | None:
        return self._cache

    async def check(self, isrc: str, purpose: str, *, token: str | None = None) -> Answer:
        """May track ``isrc`` be used for ``purpose`` now?

        With ``token`` (from the write API), answer only from state that has applied it;
        if it is not applied within the wait, deny with reason ``pending``.
        """
        if token is None:
            cached = self.cached(isrc, purpose)
            if cached is not None:
                return cached
        if token is not None or not self._taxonomy.knows(purpose):
            return (await self.check_many([isrc], purpose, token=token))[isrc]
        answer = await self._coalescer.check(isrc, purpose)
        self._count(purpose, [answer])
        return answer

    def cached(self, isrc: str, purpose: str) -> Answer | None:
        """The cache's answer, counted, if it may be served now (``AnswerCache``)."""
        if self._cache is None:
            return None
        cached = self._cache.get(isrc, purpose)
        if cached is not None:
            self.answer_counts[purpose, cached.verdict] += 1  # a StrEnum: no .value
        return cached

    async def check_many(
        self, isrcs: Sequence[str], purpose: str, *, token: str | None = None
    ) -> dict[str, Answer]:
        """Answers for a batch of tracks: cache hits, then one Redis round trip for the rest."""
        if not self._taxonomy.knows(purpose):
            return {isrc: refusal(isrc, purpose, Basis.UNKNOWN_PURPOSE) for isrc in isrcs}
        wanted = parse_token(token) if token is not None else None
        answers = await self._answers(isrcs, purpose, wanted)
        self._count(purpose, answers.values())
        return answers

    async def _answers(
        self, isrcs: Sequence[str], purpose: str, wanted: Token | None
    ) -> dict[str, Answer]:
        answers: dict[str, Answer] = {}
        missing: list[str] = []
        for isrc in isrcs:
            cached = None
            if wanted is None and self._cache is not None:
                cached = self._cache.get(isrc, purpose)
            if cached is None:
                missing.append(isrc)
            else:
                answers[isrc] = cached
        if missing:
            started = time.perf_counter()
            answers.update(await self._read(missing, purpose, wanted))
            elapsed = time.perf_counter() - started
            (REDIS_SINGLE if len(missing) == 1 else REDIS_BATCH).observe(elapsed)
        return answers

    def _count(self, purpose: str, answers: Iterable[Answer]) -> None:
        counts = self.answer_counts
        for answer in answers:
            basis = answer.reasons[0].basis if answer.reasons else None
            if basis is Basis.PENDING or basis is Basis.UNVERIFIABLE:
                counts[purpose, basis] += 1
            else:
                counts[purpose, answer.verdict] += 1

    async def _read(
        self, isrcs: list[str], purpose: str, wanted: Token | None
    ) -> dict[str, Answer]:
        generation = self._cache.generation if self._cache is not None else 0
        deadline = time.monotonic() + self._token_wait_s
        mark = (wanted.topic, wanted.partition) if wanted else None
        while True:
            try:
                snapshot = await self._reader.gather(isrcs, purpose, mark)
            except (RedisError, OSError) as exc:
                log.warning("consent unverifiable, Redis failed: %s", exc)
                return self.unverifiable(isrcs, purpose)
            now = self._clock_ms()
            if not self._fresh(snapshot.fresh_until_ms, now):
                return self.unverifiable(isrcs, purpose)
            applied = -1 if snapshot.watermark is None else snapshot.watermark
            if wanted is None or applied >= wanted.offset:
                return self._resolve(snapshot, purpose, now, generation)
            if time.monotonic() >= deadline:
                return {isrc: refusal(isrc, purpose, Basis.PENDING) for isrc in isrcs}
            honour_cancellation()  # a read may have swallowed it: do not wait on
            await asyncio.sleep(0.005)

    def _resolve(
        self, snapshot: Snapshot, purpose: str, now_ms: int, generation: int
    ) -> dict[str, Answer]:
        answers: dict[str, Answer] = {}
        cache, taxonomy = self._cache, self._taxonomy
        for isrc, view in snapshot.tracks.items():
            if view is None:
                answer = resolve(isrc, purpose, None, {}, taxonomy, now_ms)
            else:
                answer = resolve(isrc, purpose, view.track, view.candidates, taxonomy, now_ms)
            answers[isrc] = answer
            if cache is not None:
                valid_until = None
                tags: tuple[str, ...] = (keys.track_tag(isrc),)
                if view is not None:
                    tags = view.tags
                    boundary = _next_boundary_ms(view, now_ms)
                    if boundary is not None:
                        valid_until = time.monotonic() + (boundary - now_ms) / 1000
                cache.put(answer, tags, generation, valid_until)
        return answers

    def unverifiable(self, isrcs: Sequence[str], purpose: str) -> dict[str, Answer]:
        """The answers when consent cannot be verified: the purpose's fail-closed verdict."""
        verdict = self._taxonomy.when_unverifiable(purpose)
        reason = Reason(Basis.UNVERIFIABLE, verdict, purpose=purpose)
        return {isrc: Answer(isrc, purpose, verdict, (reason,)) for isrc in isrcs}

    def _fresh(self, fresh_until_ms: int | None, now_ms: int) -> bool:
        return fresh_until_ms is not None and now_ms - fresh_until_ms <= self._bound_ms

    async def health(self) -> Health:
        """Redis reachable? Materialiser heartbeat within the bound? Cache subscribed?"""
        live = self._cache is not None and self._cache.live
        try:
            snapshot = await self._reader.gather([], "ai")
        except (RedisError, OSError):
            return Health(False, None, False, live)
        if snapshot.fresh_until_ms is None:
            return Health(True, None, False, live)
        now = self._clock_ms()
        age = (now - snapshot.fresh_until_ms) / 1000
        return Health(True, age, self._fresh(snapshot.fresh_until_ms, now), live)

    async def verifiable(self) -> bool:
        return (await self.health()).verifiable


LISTENER = "consentry-invalidations"
"""The name of the task that keeps a checker's cache honest (``invalidation.listen``)."""


def redis_for_checks(settings: CheckSettings) -> Redis:
    """A bounded pool: past ``redis_connections`` checks in flight, a check waits for a
    connection (up to the Redis timeout, then it answers unverifiable) instead of
    opening ever more of them."""
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_connections,
        timeout=settings.redis_timeout_s,
        socket_timeout=settings.redis_timeout_s,
        socket_connect_timeout=settings.redis_timeout_s,
    )
    return Redis.from_pool(pool)  # closing the client closes its pool


@asynccontextmanager
async def connect(settings: CheckSettings) -> AsyncIterator[ConsentChecker]:
    """A checker with its own Redis pool and, unless disabled, a Redis-invalidated cache."""
    redis = redis_for_checks(settings)
    cache = AnswerCache(settings.cache_bound_s) if settings.cache_bound_s > 0 else None
    listener = (
        asyncio.create_task(listen(settings.redis_url, cache), name=LISTENER)
        if cache is not None
        else None
    )
    try:
        yield ConsentChecker(
            StateReader(redis),
            load_taxonomy(settings.purposes_file),
            heartbeat_bound_ms=int(settings.heartbeat_bound_s * 1000),
            cache=cache,
            token_wait_s=settings.token_wait_s,
        )
    finally:
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        await redis.aclose()

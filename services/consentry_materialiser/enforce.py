"""Enforcement events: tell downstream AI systems when a (track, purpose) answer changed.

Runs beside the Redis writes, never in front of them: for each record it waits until the
record's partition watermark shows it applied, finds the affected tracks (the party's
tracks, those on a release, one track, or the registered track itself) and purposes
(the decided purpose and its descendants), resolves them from Redis exactly as a check
would, and publishes what ``consentry_domain.enforcement`` says changed. The last
published answer is stored per track after the broker acknowledged the event, so a
crash in between republishes on redelivery rather than losing it (at least once; a
repeat carries the same answer).

Windows open and close without any event: ``due`` re-evaluates the slots whose
``effective_from`` or ``expires_at`` has passed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Literal

from redis.asyncio import Redis

from consentry_domain import Answer, Taxonomy, Verdict, resolve
from consentry_domain.enforcement import Change, enforcement_diff, purposes_affected
from consentry_domain.state import slot_key_of
from consentry_events import (
    ConsentChanged,
    DecodeError,
    DelegationChanged,
    EnforcementCause,
    EnforcementChanged,
)
from consentry_kafka import LogRecord
from consentry_state import (
    CatalogueIndex,
    DecisionWindows,
    LogProgress,
    PublishedAnswers,
    StateReader,
)

log = logging.getLogger(__name__)

Publish = Callable[[Sequence[EnforcementChanged]], Awaitable[None]]
CHUNK = 500


class MaterialiserError(Exception):
    """Base of the materialiser's own errors."""


class NotYetApplied(MaterialiserError):
    """The records were not applied to Redis in time; enforce them again later."""


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _word(verdict: Verdict) -> Literal["allow", "deny"]:
    return "allow" if verdict is Verdict.ALLOW else "deny"


class Enforcer:
    def __init__(
        self,
        redis: Redis,
        taxonomy: Taxonomy,
        publish: Publish,
        clock_ms: Callable[[], int] = _now_ms,
        apply_wait_s: float = 30.0,
    ) -> None:
        self._reader = StateReader(redis)
        self._progress = LogProgress(redis)
        self._index = CatalogueIndex(redis)
        self._published = PublishedAnswers(redis)
        self._windows = DecisionWindows(redis)
        self._taxonomy = taxonomy
        self._publish = publish
        self._clock_ms = clock_ms
        self._apply_wait_s = apply_wait_s

    async def handle(self, records: Sequence[LogRecord]) -> int:
        """Publish the answer changes the records caused; returns how many were published.

        Raises ``NotYetApplied`` when Redis has not applied the records within the wait."""
        if not records:
            return 0
        await self._wait_applied(records)
        work: dict[tuple[str, str], EnforcementCause | None] = {}
        for record in records:
            try:
                event = record.decoded().event
            except DecodeError:
                continue  # dead-lettered by the materialising agent
            if isinstance(event, DelegationChanged):
                continue  # who may decide changed, not any answer
            cause = EnforcementCause(
                topic=record.topic, partition=record.partition, offset=record.offset
            )
            if isinstance(event, ConsentChanged):
                key = slot_key_of(event)
                tracks: Iterable[str] = await self._index.tracks_of(key)
                purposes = purposes_affected(self._taxonomy, key.purpose)
            else:
                tracks, purposes = [event.isrc], sorted(self._taxonomy.defaults)
            for isrc in tracks:
                for purpose in purposes:
                    work[(isrc, purpose)] = cause
        return await self._publish_changes(work)

    async def due(self) -> int:
        """Re-evaluate slots whose effective window opened or closed by now."""
        windows = await self._windows.due(self._clock_ms())
        if not windows:
            return 0
        work: dict[tuple[str, str], EnforcementCause | None] = {}
        for window in windows:
            for isrc in await self._index.tracks_of(window.key):
                for purpose in purposes_affected(self._taxonomy, window.key.purpose):
                    work[(isrc, purpose)] = None
        published = await self._publish_changes(work)
        await self._windows.handled(windows)
        return published

    async def _wait_applied(self, records: Sequence[LogRecord]) -> None:
        wanted: dict[tuple[str, int], int] = {}
        for record in records:
            tp = (record.topic, record.partition)
            wanted[tp] = max(wanted.get(tp, -1), record.offset)
        if not await self._progress.wait_applied(wanted, self._apply_wait_s):
            raise NotYetApplied(
                f"records up to {wanted} not applied to Redis within {self._apply_wait_s:g}s"
            )

    async def _publish_changes(self, work: dict[tuple[str, str], EnforcementCause | None]) -> int:
        by_purpose: dict[str, list[str]] = {}
        for isrc, purpose in work:
            by_purpose.setdefault(purpose, []).append(isrc)
        published = 0
        for purpose, isrcs in sorted(by_purpose.items()):
            for start in range(0, len(isrcs), CHUNK):
                chunk = isrcs[start : start + CHUNK]
                answers = await self._answers(chunk, purpose)
                diff = enforcement_diff(answers, await self._published.get(chunk, purpose))
                if diff.changes:
                    await self._publish(
                        [self._event(c, work[(c.answer.isrc, purpose)]) for c in diff.changes]
                    )
                    published += len(diff.changes)
                await self._published.record(purpose, diff.to_record())
        return published

    async def _answers(self, isrcs: list[str], purpose: str) -> list[Answer]:
        snapshot = await self._reader.gather(isrcs, purpose)
        now = self._clock_ms()
        return [
            resolve(
                isrc,
                purpose,
                None if view is None else view.track,
                {} if view is None else view.candidates,
                self._taxonomy,
                now,
            )
            for isrc, view in snapshot.tracks.items()
        ]

    @staticmethod
    def _event(change: Change, cause: EnforcementCause | None) -> EnforcementChanged:
        answer = change.answer
        return EnforcementChanged(
            isrc=answer.isrc,
            purpose=answer.purpose,
            answer=_word(answer.verdict),
            previous=_word(change.previous),
            reasons=tuple(r.describe() for r in answer.reasons),
            cause=cause,
            decided_at=datetime.now(UTC),
        )

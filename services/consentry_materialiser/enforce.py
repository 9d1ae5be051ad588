"""Enforcement events: tell downstream AI systems when a (track, purpose) answer changed.

Runs beside the Redis writes, never in front of them: for each record it waits until the
record's partition watermark shows it applied, finds the affected tracks (the party's
tracks, those on a release, one track, or the registered track itself) and purposes
(the decided purpose and its descendants), resolves them from Redis exactly as a check
would, and publishes an event for each pair whose answer differs from the one last
published. The last published answer is stored per track after the broker acknowledged
the event, so a crash in between republishes on redelivery rather than losing it
(at least once; a repeat carries the same answer).

The first evaluation of a pair -- a newly registered track -- records its answer as the
baseline without publishing: downstream systems learn of new tracks from the catalogue,
and of *changes* to known tracks from here.

Windows open and close without any event: ``due`` re-evaluates the slots whose
``effective_from`` or ``expires_at`` has passed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Literal

from redis.asyncio import Redis

from consentry_domain import Answer, Basis, SlotKey, Taxonomy, resolve
from consentry_domain.purposes import covers
from consentry_domain.state import slot_key_of
from consentry_events import (
    ConsentChanged,
    DecodeError,
    DelegationChanged,
    EnforcementCause,
    EnforcementChanged,
    decode,
)
from consentry_events import Scope as EventScope
from consentry_materialiser.apply import RawRecord
from consentry_state import StateReader, keys

log = logging.getLogger(__name__)

Publish = Callable[[Sequence[EnforcementChanged]], Awaitable[None]]
CHUNK = 500


def _as_answer(value: bytes | str | None) -> Literal["allow", "deny"] | None:
    text = value.decode() if isinstance(value, bytes) else value
    if text == "allow":
        return "allow"
    if text == "deny":
        return "deny"
    return None


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class Enforcer:
    def __init__(
        self,
        redis: Redis,
        taxonomy: Taxonomy,
        publish: Publish,
        clock_ms: Callable[[], int] = _now_ms,
    ) -> None:
        self._redis = redis
        self._reader = StateReader(redis)
        self._taxonomy = taxonomy
        self._publish = publish
        self._clock_ms = clock_ms

    def _purposes_under(self, purpose: str) -> list[str]:
        return [p for p in sorted(self._taxonomy.defaults) if covers(purpose, p)]

    async def _tracks_of(self, key: SlotKey) -> set[str]:
        party_tracks = keys.party_tracks_key(key.party)
        if key.scope is EventScope.PARTY:
            members = await self._redis.smembers(party_tracks)
        elif key.scope is EventScope.RELEASE:
            members = await self._redis.sinter([party_tracks, keys.release_tracks_key(key.work)])
        else:
            member = await self._redis.sismember(party_tracks, key.work)
            members = {key.work.encode()} if member else set()
        return {m.decode() if isinstance(m, bytes) else m for m in members}

    async def _wait_applied(self, records: Sequence[RawRecord]) -> None:
        """Until Redis has applied every record: one look per poll, all partitions at once."""
        wanted: dict[str, int] = {}
        for record in records:
            field = keys.watermark_field(record.topic, record.partition)
            wanted[field] = max(wanted.get(field, -1), record.offset)
        fields = list(wanted)
        while True:
            marks = await self._redis.hmget(keys.WATERMARKS, fields)
            if all(
                m is not None and int(m) >= wanted[f] for f, m in zip(fields, marks, strict=True)
            ):
                return
            await asyncio.sleep(0.002)

    async def handle(self, records: Sequence[RawRecord]) -> int:
        """Publish the answer changes the records caused; returns how many were published."""
        work: dict[tuple[str, str], EnforcementCause | None] = {}
        if records:
            await self._wait_applied(records)
        for record in records:
            try:
                event = decode(record.value)
            except DecodeError:
                continue  # dead-lettered by the materialising agent
            cause = EnforcementCause(
                topic=record.topic, partition=record.partition, offset=record.offset
            )
            if isinstance(event, DelegationChanged):
                continue  # who may decide changed, not any answer
            if isinstance(event, ConsentChanged):
                key = slot_key_of(event)
                tracks: Iterable[str] = await self._tracks_of(key)
                purposes = self._purposes_under(key.purpose)
            else:
                tracks, purposes = [event.isrc], sorted(self._taxonomy.defaults)
            for isrc in tracks:
                for purpose in purposes:
                    work[(isrc, purpose)] = cause
        return await self._settle(work)

    async def due(self) -> int:
        """Re-evaluate slots whose effective window opened or closed by now."""
        now = self._clock_ms()
        members = [
            m
            for m in await self._redis.zrangebyscore(keys.DUE, "-inf", now)
            if isinstance(m, bytes)
        ]
        if not members:
            return 0
        work: dict[tuple[str, str], EnforcementCause | None] = {}
        for raw in members:
            _, party, field = raw.decode().split("|", 2)
            key = keys.parse_slot_field(party, field)
            for isrc in await self._tracks_of(key):
                for purpose in self._purposes_under(key.purpose):
                    work[(isrc, purpose)] = None
        published = await self._settle(work)
        await self._redis.zrem(keys.DUE, *members)
        return published

    async def _settle(self, work: dict[tuple[str, str], EnforcementCause | None]) -> int:
        by_purpose: dict[str, list[str]] = {}
        for isrc, purpose in work:
            by_purpose.setdefault(purpose, []).append(isrc)
        published = 0
        for purpose, isrcs in sorted(by_purpose.items()):
            for start in range(0, len(isrcs), CHUNK):
                chunk = isrcs[start : start + CHUNK]
                answers = await self._answers(chunk, purpose)
                previous = await self._published(chunk, purpose)
                baseline = [
                    answers[i]
                    for i in chunk
                    if previous[i] is None
                    and answers[i].reasons
                    and answers[i].reasons[0].basis is not Basis.UNKNOWN_TRACK
                ]
                changed = [
                    self._event(answers[i], previous[i], work[(i, purpose)])
                    for i in chunk
                    if previous[i] is not None and answers[i].verdict.value != previous[i]
                ]
                if changed:
                    await self._publish(changed)
                    published += len(changed)
                if changed or baseline:
                    field = keys.published_field(purpose)
                    async with self._redis.pipeline(transaction=False) as pipe:
                        for event in changed:
                            pipe.hset(keys.track_key(event.isrc), field, event.answer)
                        for answer in baseline:
                            pipe.hset(keys.track_key(answer.isrc), field, answer.verdict.value)
                        await pipe.execute()
        return published

    async def _answers(self, isrcs: list[str], purpose: str) -> dict[str, Answer]:
        snapshot = await self._reader.gather(isrcs, purpose)
        now = self._clock_ms()
        return {
            isrc: resolve(
                isrc,
                purpose,
                None if view is None else view.track,
                {} if view is None else view.candidates,
                self._taxonomy,
                now,
            )
            for isrc, view in snapshot.tracks.items()
        }

    async def _published(
        self, isrcs: list[str], purpose: str
    ) -> dict[str, Literal["allow", "deny"] | None]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for isrc in isrcs:
                pipe.hget(keys.track_key(isrc), keys.published_field(purpose))
            values = await pipe.execute()
        return {isrc: _as_answer(v) for isrc, v in zip(isrcs, values, strict=True)}

    @staticmethod
    def _event(
        answer: Answer, previous: Literal["allow", "deny"] | None, cause: EnforcementCause | None
    ) -> EnforcementChanged:
        return EnforcementChanged(
            isrc=answer.isrc,
            purpose=answer.purpose,
            answer="allow" if answer.allowed else "deny",
            previous=previous,
            reasons=tuple(r.describe() for r in answer.reasons),
            cause=cause,
            decided_at=datetime.now(UTC),
        )

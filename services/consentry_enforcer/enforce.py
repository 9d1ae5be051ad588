"""Enforcement events: tell downstream AI systems when a (track, purpose) answer changed.

For each fetch of the logs, after the materialiser has applied it (the records'
partition watermarks show it):

* a track record is indexed (its release, its parties' releases) and its answers for
  every purpose resolved;
* a decision is fanned out over the tracks it can reach -- one track, the party's tracks
  on one release, or all the party's tracks -- release by release in UPC order, about
  ``chunk`` tracks a step; after each step the last release done is kept, so a fan-out
  interrupted by a crash resumes where it stopped;
* a decision with a window also schedules its opening and closing, which ``due``
  enforces when they pass.

Answers are resolved from the check side's state exactly as a check would, and what to
publish is ``consentry_domain.enforcement``'s rule. The last published answer is
recorded after the broker acknowledged the event, so a crash in between republishes
rather than loses (at least once; a repeat carries the same answer).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Literal

from redis.asyncio import Redis

from consentry_domain import Taxonomy, Verdict, resolve
from consentry_domain.enforcement import Change, enforcement_diff, purposes_affected
from consentry_domain.state import slot_key_of
from consentry_enforcer import metrics
from consentry_events import (
    ConsentChanged,
    DecodeError,
    EnforcementCause,
    EnforcementChanged,
    Scope,
    TrackChanged,
)
from consentry_kafka import LogRecord
from consentry_state import (
    CatalogueIndex,
    DecisionWindows,
    FanOuts,
    LogProgress,
    PublishedAnswers,
    StateReader,
)

Publish = Callable[[Sequence[EnforcementChanged]], Awaitable[None]]
RELEASE_SIZE = 10
"""Tracks on a typical release: a fan-out step takes about ``chunk`` / this releases."""
Work = dict[tuple[str, str], EnforcementCause | None]
"""(isrc, purpose) -> the record that caused its re-evaluation (None: a window)."""


class EnforcerError(Exception):
    """Base of the enforcer's own errors."""


class NotYetApplied(EnforcerError):
    """The records were not applied to Redis in time; enforce them again later."""


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _word(verdict: Verdict) -> Literal["allow", "deny"]:
    return "allow" if verdict is Verdict.ALLOW else "deny"


def _cause(record: LogRecord) -> EnforcementCause:
    return EnforcementCause(topic=record.topic, partition=record.partition, offset=record.offset)


class Enforcer:
    def __init__(
        self,
        state: Redis,
        store: Redis,
        taxonomy: Taxonomy,
        publish: Publish,
        *,
        chunk: int = 500,
        apply_wait_s: float = 30.0,
        clock_ms: Callable[[], int] = _now_ms,
    ) -> None:
        self._reader = StateReader(state)
        self._progress = LogProgress(state)
        self._index = CatalogueIndex(store)
        self._published = PublishedAnswers(store)
        self._windows = DecisionWindows(store)
        self._fanouts = FanOuts(store)
        self._taxonomy = taxonomy
        self._publish = publish
        self._chunk = chunk
        self._apply_wait_s = apply_wait_s
        self._clock_ms = clock_ms

    async def handle(self, records: Sequence[LogRecord]) -> int:
        """Publish the answer changes the records caused; returns how many were published.

        Raises ``NotYetApplied`` when Redis has not applied the records within the wait;
        handling the same records again is safe."""
        tracks: list[tuple[EnforcementCause, TrackChanged]] = []
        decisions: list[tuple[LogRecord, ConsentChanged]] = []
        for record in records:
            try:
                event = record.decoded().event
            except DecodeError:
                continue  # dead-lettered by the materialiser
            if isinstance(event, TrackChanged):
                tracks.append((_cause(record), event))
            elif isinstance(event, ConsentChanged):
                decisions.append((record, event))
        await self._index.add((t.isrc, t.upc, t.parties) for _, t in tracks)
        await self._wait_applied(records)
        every = sorted(self._taxonomy.defaults)
        published = await self._publish_changes(
            {(track.isrc, p): cause for cause, track in tracks for p in every}
        )
        for record, decision in decisions:
            published += await self._fan_out(record, decision)
        return published

    async def due(self) -> int:
        """Re-evaluate the tracks of slots whose effective window opened or closed by now."""
        windows = await self._windows.due(self._clock_ms())
        published = 0
        for window in windows:
            key = window.key
            tracks = await self._reach(key.party, key.scope, key.work)
            work: Work = {
                (isrc, purpose): None
                for isrc in tracks
                for purpose in purposes_affected(self._taxonomy, key.purpose)
            }
            published += await self._publish_changes(work)
        await self._windows.handled(windows)
        return published

    async def _reach(self, party: str, scope: Scope, work: str) -> list[str]:
        if scope is Scope.TRACK:
            return [work]
        upcs = [work] if scope is Scope.RELEASE else await self._index.releases_of(party)
        on = await self._index.tracks_on(upcs)
        return [isrc for upc in upcs for isrc in on[upc]]

    async def _fan_out(self, record: LogRecord, event: ConsentChanged) -> int:
        key = slot_key_of(event)
        purposes = purposes_affected(self._taxonomy, key.purpose)
        cause = _cause(record)
        if event.effective_from is not None or event.expires_at is not None:
            instants = (event.effective_from, event.expires_at)
            await self._windows.schedule(
                key, [int(m.timestamp() * 1000) for m in instants if m is not None]
            )
        if key.scope is Scope.TRACK:
            return await self._publish_changes({(key.work, p): cause for p in purposes})
        where = (record.topic, record.partition, record.offset)
        if key.scope is Scope.RELEASE:
            releases = [key.work] if await self._index.holds(key.party, key.work) else []
        else:
            releases = await self._index.releases_of(key.party)
        after = await self._fanouts.resume_after(*where)
        if after is not None:
            releases = [upc for upc in releases if upc > after]
        published = 0
        per_step = max(1, self._chunk // RELEASE_SIZE)
        for start in range(0, len(releases), per_step):
            step = releases[start : start + per_step]
            metrics.FANOUT_REMAINING.set(len(releases) - start)
            on = await self._index.tracks_on(step)
            work: Work = {(isrc, p): cause for upc in step for isrc in on[upc] for p in purposes}
            published += await self._publish_changes(work)
            await self._fanouts.done_up_to(*where, step[-1])
        metrics.FANOUT_REMAINING.set(0)
        await self._fanouts.finish(*where)
        return published

    async def _wait_applied(self, records: Sequence[LogRecord]) -> None:
        wanted: dict[tuple[str, int], int] = {}
        for record in records:
            tp = (record.topic, record.partition)
            wanted[tp] = max(wanted.get(tp, -1), record.offset)
        if wanted and not await self._progress.wait_applied(wanted, self._apply_wait_s):
            raise NotYetApplied(
                f"records up to {wanted} not applied to Redis within {self._apply_wait_s:g}s"
            )

    async def _publish_changes(self, work: Work) -> int:
        """Resolve the pairs in ``work`` and publish what differs from what downstream
        believes: one read of the state per ``chunk`` tracks, for all their purposes."""
        purposes_of: dict[str, list[str]] = {}
        for isrc, purpose in work:
            purposes_of.setdefault(isrc, []).append(purpose)
        isrcs = list(purposes_of)
        published = 0
        for start in range(0, len(isrcs), self._chunk):
            chunk = isrcs[start : start + self._chunk]
            read = await self._reader.read(chunk)
            purposes = sorted({p for isrc in chunk for p in purposes_of[isrc]})
            believed = await self._published.get(chunk, purposes)
            now = self._clock_ms()
            for purpose in purposes:
                wanted = [isrc for isrc in chunk if purpose in purposes_of[isrc]]
                answers = [
                    resolve(
                        isrc,
                        purpose,
                        None if view is None else view.track,
                        {} if view is None else view.candidates,
                        self._taxonomy,
                        now,
                    )
                    for isrc, view in read.views(purpose, wanted).items()
                ]
                metrics.RESOLVED.inc(len(answers))
                previous = {isrc: believed[isrc, purpose] for isrc in wanted}
                diff = enforcement_diff(answers, previous, self._taxonomy.default(purpose))
                if diff.changes:
                    await self._publish(
                        [self._event(c, work[(c.answer.isrc, purpose)]) for c in diff.changes]
                    )
                    published += len(diff.changes)
                    metrics.EVENTS.inc(len(diff.changes))
                await self._published.record(purpose, diff.to_record())
        return published

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


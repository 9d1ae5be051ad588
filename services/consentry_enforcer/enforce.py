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
rather than loses (at least once; a repeat carries the same answer). A fan-out's steps
overlap: one step is read and resolved while the one before is published.

Answers are only resolved from a whole check state: while it is being rebuilt (after a
loss) the work waits, so a half-rebuilt state is never taken for what downstream should
believe. Each change goes out on the feed first, then into the compacted record of what
downstream was told (``Downstream.remember``), then into the store: a lost store is
rebuilt from Kafka (``consentry_enforcer.recovery``) and reconciled by ``sweep``.

Longer than 300 lines: the fetch, fan-out, window and sweep paths share one
prepare/commit pair, kept beside them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from redis.asyncio import Redis

from consentry_domain import SlotKey, Taxonomy, Verdict, resolve
from consentry_domain.enforcement import Change, enforcement_diff, purposes_affected
from consentry_domain.state import slot_keys_of
from consentry_enforcer import metrics
from consentry_events import (
    ConsentChanged,
    ConsentChangedMany,
    Decision,
    DecodeError,
    DisclosureStated,
    EnforcementCause,
    EnforcementChanged,
    Scope,
    TrackChanged,
)
from consentry_kafka import LogRecord
from consentry_kafka.signatures import EventVerifier, Refused
from consentry_state import (
    CatalogueIndex,
    DecisionWindows,
    FanOuts,
    LogProgress,
    PublishedAnswers,
    StateReader,
)
from consentry_tracing import span_headers, spans_of

Told = dict[str, dict[str, Verdict | None]]
"""Purpose -> ISRC -> the answer downstream now believes (None: the purpose's default)."""


Traced = Mapping[tuple[str, int, int], Sequence[tuple[str, bytes]]]
"""(topic, partition, offset) of a record being enforced -> the headers of what it causes."""


class Downstream(Protocol):
    """Where changes go: the change feed, and the record of what downstream was told."""

    async def publish(
        self, events: Sequence[EnforcementChanged], traced: Traced | None = None
    ) -> None:
        """Onto the feed; returns once the broker acknowledged every event. An event
        caused by a record in ``traced`` carries that record's headers (its trace)."""

    async def remember(self, told: Told) -> None:
        """Into the compacted record; returns once acknowledged."""


RELEASE_SIZE = 10
"""Tracks on a typical release: a fan-out step takes about ``chunk`` / this releases."""
Work = dict[tuple[str, str], EnforcementCause | None]
"""(isrc, purpose) -> the record that caused its re-evaluation (None: a window, a sweep)."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """A chunk's enforcement events, and the answers to record once they are out."""

    events: list[EnforcementChanged]
    record: Told


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
        downstream: Downstream,
        *,
        trust: EventVerifier,
        chunk: int = 500,
        apply_wait_s: float = 30.0,
        clock_ms: Callable[[], int] = _now_ms,
    ) -> None:
        self._trust = trust
        self._reader = StateReader(state)
        self._progress = LogProgress(state)
        self._index = CatalogueIndex(store)
        self._published = PublishedAnswers(store)
        self._traced: Traced = {}
        self._windows = DecisionWindows(store)
        self._fanouts = FanOuts(store)
        self._taxonomy = taxonomy
        self._downstream = downstream
        self._chunk = chunk
        self._apply_wait_s = apply_wait_s
        self._clock_ms = clock_ms

    async def handle(self, records: Sequence[LogRecord]) -> int:
        """Publish the answer changes the records caused; returns how many were published.

        Tracks, track and release decisions, and decisions of parties with a step's worth
        of releases or fewer are enforced together, once per fetch (a crash redelivers the
        fetch); a larger party-wide decision is fanned out on its own, resumably.

        Raises ``NotYetApplied`` when Redis has not applied the records within the wait;
        handling the same records again is safe."""
        with spans_of("consentry.enforce", records) as spans:
            self._traced = {place: span_headers(span) for place, span in spans.items()}
            try:
                published = await self._handle(records)
            finally:
                self._traced = {}
            for span in spans.values():  # ends as the change feed holds every change
                span.set_attribute("consentry.changes_published", published)
        return published

    async def _handle(self, records: Sequence[LogRecord]) -> int:
        tracks: list[tuple[EnforcementCause, TrackChanged]] = []
        decisions: list[tuple[LogRecord, Decision]] = []
        stated: list[tuple[EnforcementCause, DisclosureStated]] = []
        for record in records:
            try:
                event = record.decoded(self._trust).event
            except Refused as refused:
                metrics.REFUSED.labels(reason=refused.verdict.value).inc()
                continue  # dead-lettered by the materialiser, never enforced
            except DecodeError:
                continue  # dead-lettered by the materialiser
            if isinstance(event, TrackChanged):
                tracks.append((_cause(record), event))
            elif isinstance(event, ConsentChanged | ConsentChangedMany):
                decisions.append((record, event))
            elif isinstance(event, DisclosureStated):
                stated.append((_cause(record), event))
        await self._index.add(t for _, t in tracks)
        await self._wait_applied(records)
        every = sorted(self._taxonomy.defaults)
        work: Work = {(track.isrc, p): cause for cause, track in tracks for p in every}
        # A statement changes answers only where the taxonomy excludes disclosed AI.
        excluding = [p for p in every if self._taxonomy.excluded_ai(p)]
        work |= {(isrc, p): cause for cause, s in stated for isrc in s.works for p in excluding}
        large = await self._reach_small(decisions, work)
        published = await self._publish_changes(work)
        for record, key in large:
            published += await self._fan_out(record, key)
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

    async def sweep(self, upcs: Sequence[str]) -> int:
        """Every purpose of every track on these releases, against what downstream was
        told: after the store was lost, whatever changed meanwhile is published."""
        on = await self._index.tracks_on(upcs)
        every = sorted(self._taxonomy.defaults)
        work: Work = {(isrc, p): None for upc in upcs for isrc in on[upc] for p in every}
        return await self._publish_changes(work)

    async def _reach(self, party: str, scope: Scope, work: str) -> list[str]:
        if scope is Scope.TRACK:
            return [work]
        upcs = [work] if scope is Scope.RELEASE else (await self._index.releases_of([party]))[0]
        on = await self._index.tracks_on(upcs)
        return [isrc for upc in upcs for isrc in on[upc]]

    async def _reach_small(
        self, decisions: Sequence[tuple[LogRecord, Decision]], work: Work
    ) -> list[tuple[LogRecord, SlotKey]]:
        """Add the pairs the fetch's small decisions reach to ``work`` (a few pipelined
        reads of the index for all of them); return the large ones, in log order. A
        decision on many works reaches each of its works' tracks."""
        keyed: list[tuple[LogRecord, SlotKey]] = []
        for record, event in decisions:
            slots = slot_keys_of(event)
            keyed += [(record, key) for key in slots]
            if event.effective_from is not None or event.expires_at is not None:
                instants = (event.effective_from, event.expires_at)
                await self._windows.schedule(
                    slots, [int(m.timestamp() * 1000) for m in instants if m is not None]
                )
        on_release = [(r, k) for r, k in keyed if k.scope is Scope.RELEASE]
        party_wide = [(r, k) for r, k in keyed if k.scope is Scope.PARTY]
        held = await self._index.holds([(k.party, k.work) for _, k in on_release])
        counts = await self._index.release_counts([k.party for _, k in party_wide])
        per_step = max(1, self._chunk // RELEASE_SIZE)
        small = [(r, k) for (r, k), n in zip(party_wide, counts, strict=True) if n <= per_step]
        releases = await self._index.releases_of([k.party for _, k in small])
        reached: list[tuple[LogRecord, SlotKey, list[str]]] = [
            (r, k, [k.work]) for (r, k), h in zip(on_release, held, strict=True) if h
        ]
        reached += [(r, k, upcs) for (r, k), upcs in zip(small, releases, strict=True)]
        on = await self._index.tracks_on(sorted({upc for *_, upcs in reached for upc in upcs}))
        pairs: list[tuple[LogRecord, SlotKey, list[str]]] = [
            (r, k, [k.work]) for r, k in keyed if k.scope is Scope.TRACK
        ]
        pairs += [(r, k, [i for upc in upcs for i in on[upc]]) for r, k, upcs in reached]
        pairs.sort(key=lambda p: (p[0].topic, p[0].partition, p[0].offset))
        for record, key, isrcs in pairs:
            cause = _cause(record)
            purposes = purposes_affected(self._taxonomy, key.purpose)
            work.update({(isrc, p): cause for isrc in isrcs for p in purposes})
        return [(r, k) for (r, k), n in zip(party_wide, counts, strict=True) if n > per_step]

    async def _fan_out(self, record: LogRecord, key: SlotKey) -> int:
        """A party-wide decision, release by release in UPC order, resumably."""
        purposes = purposes_affected(self._taxonomy, key.purpose)
        cause = _cause(record)
        where = (record.topic, record.partition, record.offset)
        releases = (await self._index.releases_of([key.party]))[0]
        after = await self._fanouts.resume_after(*where)
        if after is not None:
            releases = [upc for upc in releases if upc > after]
        per_step = max(1, self._chunk // RELEASE_SIZE)
        published = 0
        committing: asyncio.Task[int] | None = None
        try:
            for start in range(0, len(releases), per_step):
                step = releases[start : start + per_step]
                metrics.FANOUT_REMAINING.set(len(releases) - start)
                on = await self._index.tracks_on(step)
                work: Work = {
                    (isrc, p): cause for upc in step for isrc in on[upc] for p in purposes
                }
                prepared = [await self._prepare(work, chunk) for chunk in self._chunks(work)]
                # The step before is published and recorded while this one was read and
                # resolved (their tracks are apart: a track is on one release); the
                # resume point only moves once a step is wholly out.
                if committing is not None:
                    published += await committing
                committing = asyncio.create_task(self._commit_step(prepared, where, step[-1]))
            if committing is not None:
                published += await committing
                committing = None
        finally:
            if committing is not None:
                committing.cancel()
                with contextlib.suppress(BaseException):
                    await committing
        metrics.FANOUT_REMAINING.set(0)
        await self._fanouts.finish(*where)
        return published

    async def _commit_step(
        self, prepared: Sequence[Prepared], where: tuple[str, int, int], last_upc: str
    ) -> int:
        published = 0
        for chunk in prepared:
            published += await self._commit(chunk)
        await self._fanouts.done_up_to(*where, last_upc)
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
        believes, a chunk of tracks at a time."""
        published = 0
        for chunk in self._chunks(work):
            published += await self._commit(await self._prepare(work, chunk))
        return published

    def _chunks(self, work: Work) -> list[dict[str, list[str]]]:
        """``work``'s tracks, ``chunk`` at a time, each with the purposes asked of it."""
        purposes_of: dict[str, list[str]] = {}
        for isrc, purpose in work:
            purposes_of.setdefault(isrc, []).append(purpose)
        isrcs = list(purposes_of)
        return [
            {isrc: purposes_of[isrc] for isrc in isrcs[start : start + self._chunk]}
            for start in range(0, len(isrcs), self._chunk)
        ]

    async def _prepare(self, work: Work, chunk: Mapping[str, list[str]]) -> Prepared:
        """One read of the state and of the answers last published for the chunk, and
        the events for what changed."""
        isrcs = list(chunk)
        read = await self._reader.read(isrcs)
        if read.fresh_until_ms is None:
            raise NotYetApplied("the check state is not whole (being rebuilt after a loss)")
        purposes = sorted({p for wanted in chunk.values() for p in wanted})
        believed = await self._published.get(isrcs, purposes)
        # A track no decision applies to answers every purpose's default; with nothing
        # published about it either, downstream already believes that (most new tracks).
        excluded = {level for p in purposes for level in self._taxonomy.excluded_ai(p)}
        settled = {
            isrc
            for isrc in read.without_decisions(excluded)
            if all(believed[isrc, p] is None for p in chunk[isrc])
        }
        metrics.RESOLVED.inc(sum(len(chunk[isrc]) for isrc in settled))
        now = self._clock_ms()
        events: list[EnforcementChanged] = []
        record: Told = {}
        for purpose in purposes:
            wanted = [isrc for isrc in isrcs if purpose in chunk[isrc] and isrc not in settled]
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
            events += [self._event(c, work[(c.answer.isrc, purpose)]) for c in diff.changes]
            record[purpose] = diff.to_record()
        return Prepared(events, record)

    async def _commit(self, prepared: Prepared) -> int:
        """Publish the events (once the broker acknowledged them all), then record them
        as what downstream believes: in Kafka, then in the store."""
        if prepared.events:
            await self._downstream.publish(prepared.events, self._traced)
            metrics.EVENTS.inc(len(prepared.events))
            await self._downstream.remember(prepared.record)
        await self._published.record(prepared.record)
        return len(prepared.events)

    @staticmethod
    def _event(change: Change, cause: EnforcementCause | None) -> EnforcementChanged:
        """The event for a change, built without validation: every field comes from an
        answer resolved here (a fan-out builds hundreds of thousands; validating each
        cost a fifth of its time). A test re-validates what this builds."""
        answer = change.answer
        return EnforcementChanged.model_construct(
            isrc=answer.isrc,
            purpose=answer.purpose,
            answer=_word(answer.verdict),
            previous=_word(change.previous),
            reasons=tuple(r.describe() for r in answer.reasons),
            cause=cause,
            decided_at=datetime.now(UTC),
        )

"""AI uses judged against the consent in force at the moment they happened -- pure: the
consent and catalogue logs (each record with the moment Kafka accepted it) and the uses
in, each use's judgement out.

A use at moment T is judged by the state the logs held at T -- every record accepted at
or before T, replayed with the reference model (``ConsentState``), decision windows
evaluated at T -- never by today's state. So a use allowed then stays allowed after a
later opt-out, and a use reported late for a moment before an opt-out is still allowed;
a use at a moment when its track was denied is a **violation**. A use older than the
horizon before it was reported (``reported - horizon``; ``now`` for a use not yet
reported) is not judged: it is refused with that reason, so a period once settled cannot
be reopened by reports arriving after it, and judging the log again later gives the
same judgements.

Records are applied in the order of their moments; the reference model's merge does not
depend on the order across partitions, so ties between partitions are harmless.

``timeline`` gives one track's answers for one purpose over all time at once: an answer
can only change at a record's moment or at a decision window's start or end, so the
answer at each of those moments holds until the next, and judging a use is a binary
search (what the meter keeps per track and purpose between fetches).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from consentry_domain.answers import Answer
from consentry_domain.purposes import Taxonomy
from consentry_domain.state import ConsentState
from consentry_events import AnyEvent, ConsentChanged, ConsentChangedMany
from consentry_events.usage import Use as ReportedUse


@dataclass(frozen=True, slots=True)
class Accepted:
    """A record of the consent or catalogue log, and when Kafka accepted it."""

    event: AnyEvent
    offset: int
    at_ms: int


@dataclass(frozen=True, slots=True)
class Use:
    """One AI use as its feature reported it."""

    use_id: str
    isrc: str
    purpose: str
    units: Decimal
    unit_kind: str
    model: str
    happened_ms: int
    reported_ms: int | None = None
    """When Kafka accepted its report (None: now)."""
    parties: tuple[str, ...] = ()
    """Filled in by ``judge``: the track's rights holders at the use's moment."""

    @classmethod
    def reported(cls, key: str, use: ReportedUse, reported_ms: int) -> Use:
        """A use as its report carried it (``key``: the reporter's use id, made unique)."""
        happened = int(use.happened_at.timestamp() * 1000)
        return cls(
            key, use.isrc, use.purpose, use.units, use.unit_kind, use.model, happened, reported_ms
        )


class Judgement(StrEnum):
    ALLOWED = "allowed"
    VIOLATION = "violation"
    """The track was denied for the purpose at that moment: it never earns."""
    TOO_LATE = "too_late"
    """Reported for a moment older than the horizon: refused, not judged."""


@dataclass(frozen=True, slots=True)
class Judged:
    use: Use
    judgement: Judgement
    answer: Answer | None
    """The answer in force at the use's moment, with its reasons (None: too late)."""


def judge(
    log: Iterable[Accepted],
    uses: Iterable[Use],
    taxonomy: Taxonomy,
    *,
    now_ms: int,
    horizon_ms: int,
) -> list[Judged]:
    """Every use judged (in the order of their moments, then ids), as the module says."""
    records = sorted(log, key=lambda r: r.at_ms)
    moments = [r.at_ms for r in records]
    state = ConsentState()
    applied = 0
    judged: list[Judged] = []
    for use in sorted(uses, key=lambda u: (u.happened_ms, u.use_id)):
        reported = now_ms if use.reported_ms is None else use.reported_ms
        if use.happened_ms < reported - horizon_ms:
            judged.append(Judged(use, Judgement.TOO_LATE, None))
            continue
        upto = bisect.bisect_right(moments, use.happened_ms)
        for record in records[applied:upto]:
            state.apply(record.event, record.offset)
        applied = max(applied, upto)
        answer = state.check(use.isrc, use.purpose, taxonomy, use.happened_ms)
        verdict = Judgement.ALLOWED if answer.allowed else Judgement.VIOLATION
        found = state.tracks.get(use.isrc)
        held = replace(use, parties=() if found is None else tuple(found[1].parties))
        judged.append(Judged(held, verdict, answer))
    return judged


BEFORE_ALL = -(2**63)


def _window_bounds(event: AnyEvent) -> list[int]:
    if not isinstance(event, ConsentChanged | ConsentChangedMany):
        return []
    bounds = (event.effective_from, event.expires_at)
    return [int(b.timestamp() * 1000) for b in bounds if b is not None]


class Timeline:
    """One track's answer for one purpose, and its rights holders, over time, from the
    records that bear on it (its catalogue records and its holders' decisions: what
    ``judge`` replays). Each span between two change points is worked out the first
    time a use falls in it; the replay only moves forward, and starts again for a use
    earlier than the last span worked out (uses come mostly in the order of time)."""

    def __init__(
        self, records: Iterable[Accepted], isrc: str, purpose: str, taxonomy: Taxonomy
    ) -> None:
        self._records = sorted(records, key=lambda r: r.at_ms)
        bounds = {b for r in self._records for b in _window_bounds(r.event)}
        self.moments = [BEFORE_ALL, *sorted({r.at_ms for r in self._records} | bounds)]
        self._isrc, self._purpose, self._taxonomy = isrc, purpose, taxonomy
        self._answers: dict[int, tuple[Answer, tuple[str, ...]]] = {}
        self._state = ConsentState()
        self._applied = 0
        self._span = 0

    def at(self, at_ms: int) -> tuple[Answer, tuple[str, ...]]:
        """The answer in force at ``at_ms`` and the track's holders then."""
        span = bisect.bisect_right(self.moments, at_ms) - 1
        found = self._answers.get(span)
        if found is None:
            found = self._answers[span] = self._work_out(span)
        return found

    def _work_out(self, span: int) -> tuple[Answer, tuple[str, ...]]:
        if span < self._span:
            self._state, self._applied = ConsentState(), 0
        moment = self.moments[span]
        while self._applied < len(self._records) and self._records[self._applied].at_ms <= moment:
            record = self._records[self._applied]
            self._state.apply(record.event, record.offset)
            self._applied += 1
        self._span = span
        found = self._state.tracks.get(self._isrc)
        parties = () if found is None else tuple(found[1].parties)
        return self._state.check(self._isrc, self._purpose, self._taxonomy, moment), parties


def timeline(records: Iterable[Accepted], isrc: str, purpose: str, taxonomy: Taxonomy) -> Timeline:
    """The track's answers for ``purpose`` over time (see ``Timeline``)."""
    return Timeline(records, isrc, purpose, taxonomy)


def violations(judged: Sequence[Judged]) -> list[Judged]:
    return [j for j in judged if j.judgement is Judgement.VIOLATION]

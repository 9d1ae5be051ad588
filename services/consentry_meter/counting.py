"""One fetch of usage reports metered: repeats skipped, uses judged as of their moments,
counters changed exactly once, violations found.

A fetch is counted as a whole: each use id against the ``seen`` table and the fetch's
earlier reports, every use judged from its track's timeline for the purpose
(``consentry_domain.audit.timeline``: the answers over time, worked out from the records
that bear on the track and kept until one of them changes), and each counter written once
with the changes of every report of its partition that is not in it yet
(``consentry_domain.metering.counted_all``). A table key
written from a report of partition ``p`` carries ``p``, so no two partitions' changelogs
hold the same key.
"""

from __future__ import annotations

import time
from collections import Counter as Counter_
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from consentry_domain.audit import Judged, Judgement, Timeline, Use, timeline
from consentry_domain.metering import (
    Counter,
    counted_all,
    counters_of,
    first_seen,
    forgettable,
    is_repeat,
    seen_value,
    units_of,
)
from consentry_domain.purposes import Taxonomy
from consentry_events import UsageReported, UseViolated
from consentry_events.usage import Use as ReportedUse
from consentry_kafka.tables import PartitionTable
from consentry_meter import metrics
from consentry_meter.history import History

FORGET_EVERY_S = 60.0
"""How often a meter looks for use ids past the horizon (a pass over the seen table)."""
TIMELINES_KEPT = 1_000_000
"""Tracks whose timelines are kept between fetches; past it they are worked out anew."""


@dataclass(frozen=True, slots=True)
class Report:
    """A usage report where the log holds it."""

    partition: int
    offset: int
    at_ms: int
    """When Kafka accepted it."""
    event: UsageReported


@dataclass(frozen=True, slots=True)
class Counted:
    """What a fetch changed, for the views and the violations topic."""

    counters: list[tuple[str, str, int, Decimal]]
    """(party, counter, partition, units): the holders' counters now."""
    violations: list[UseViolated]


class Meter:
    def __init__(
        self,
        history: History,
        taxonomy: Taxonomy,
        horizon_ms: int,
        units: PartitionTable,
        seen: PartitionTable,
    ) -> None:
        self._history = history
        self._taxonomy = taxonomy
        self._horizon_ms = horizon_ms
        self.units = units
        self.seen = seen
        self._lines: dict[str, dict[str, Timeline]] = {}
        """Per track and purpose, its answers over time."""
        self._as_reported: dict[str, tuple[UsageReported, ReportedUse]] = {}
        self._log_ms: dict[int, int] = {}
        """Per usage partition, the moment of the latest report read from it."""
        self._forgot_at = time.monotonic()

    async def count(self, reports: Sequence[Report]) -> Counted:
        self._as_reported.clear()  # what an earlier count that failed midway left
        await self._history.catch_up()
        for isrc in self._history.touched():
            self._lines.pop(isrc, None)
        if len(self._lines) > TIMELINES_KEPT:
            self._lines.clear()
        judged: list[tuple[Judged, int, int]] = []
        for use, partition, offset in self._fresh(reports):
            judged.append((self._judge(use), partition, offset))
        changes: dict[tuple[int, str], list[tuple[int, Decimal]]] = defaultdict(list)
        tally: Counter_[tuple[str, str]] = Counter_()
        for item, partition, offset in judged:
            for counter in counters_of(item):
                changes[partition, counter].append((offset, item.use.units))
            tally[item.judgement.value, item.use.purpose] += 1
        for (judgement, purpose), uses in tally.items():
            metrics.USES.labels(judgement=judgement, purpose=purpose).inc(uses)
        counters: list[tuple[str, str, int, Decimal]] = []
        for (partition, counter), of_counter in sorted(changes.items()):
            key = f"{counter}|{partition}"
            value = counted_all(self.units.get(key), of_counter)
            if value is not None:
                self.units.set(partition, key, value)
            if counter.startswith("p|"):
                now = units_of(self.units.get(key) or "0@-1")
                counters.append((Counter.parse(counter).subject, counter, partition, now))
        at = datetime.now(UTC)
        violations = [
            _violation(self._as_reported[j.use.use_id], j, at)
            for j, _, _ in judged
            if j.judgement is Judgement.VIOLATION
        ]
        for violation in violations:
            metrics.VIOLATIONS.labels(
                purpose=violation.use.purpose, reporter=violation.reporter
            ).inc()
        if time.monotonic() - self._forgot_at >= FORGET_EVERY_S:
            self._forgot_at = time.monotonic()
            metrics.FORGOTTEN.inc(self.forget_old_ids())
        return Counted(counters, violations)

    def _judge(self, use: Use) -> Judged:
        """The use judged by the consent of its moment, from its track's timeline for
        the purpose (worked out once, kept until a record of the track or of one of its
        holders arrives)."""
        reported = use.happened_ms if use.reported_ms is None else use.reported_ms
        if use.happened_ms < reported - self._horizon_ms:
            return Judged(use, Judgement.TOO_LATE, None)
        of_track = self._lines.setdefault(use.isrc, {})
        line = of_track.get(use.purpose)
        if line is None:
            records = self._history.relevant([use.isrc])
            line = of_track[use.purpose] = timeline(records, use.isrc, use.purpose, self._taxonomy)
        answer, parties = line.at(use.happened_ms)
        verdict = Judgement.ALLOWED if answer.allowed else Judgement.VIOLATION
        return Judged(replace(use, parties=parties), verdict, answer)

    def _fresh(self, reports: Sequence[Report]) -> list[tuple[Use, int, int]]:
        """The fetch's uses not counted before (each use id once: a later report's copy
        is a repeat), each with the partition and offset of its report (and kept as
        reported, for a violation's event)."""
        fresh: list[tuple[Use, int, int]] = []
        for report in sorted(reports, key=lambda r: (r.partition, r.offset)):
            latest = self._log_ms.get(report.partition, 0)
            self._log_ms[report.partition] = max(latest, report.at_ms)
            event = report.event
            for use in event.uses:
                key = f"{event.reporter}|{use.use_id}"
                if key in self._as_reported:
                    metrics.REPEATS.inc()
                    continue
                first = self.seen.get(key)
                if is_repeat(None if first is None else first_seen(first), report.offset):
                    metrics.REPEATS.inc()
                    continue
                counted = Use.reported(key, use, report.at_ms)
                if first is None:
                    seen = seen_value(report.offset, counted.happened_ms, report.partition)
                    self.seen.set(report.partition, key, seen)
                self._as_reported[key] = (event, use)
                fresh.append((counted, report.partition, report.offset))
        return fresh

    def forget_old_ids(self) -> int:
        """Drop the use ids whose uses are past the horizon as of the latest report read
        from their partition (``metering.forgettable``): gone from the table, tombstoned
        in its changelog with the next flush. How many were dropped."""
        dropped = [
            (partition, key)
            for key, value in self.seen.items()
            if (partition := forgettable(value, self._log_ms, self._horizon_ms)) is not None
        ]
        for partition, key in dropped:
            self.seen.delete(partition, key)
        return len(dropped)


def _violation(
    reported: tuple[UsageReported, ReportedUse], judged: Judged, at: datetime
) -> UseViolated:
    report, use = reported
    reasons = () if judged.answer is None else judged.answer.reasons
    return UseViolated(
        reporter=report.reporter,
        report_id=report.report_id,
        use=use,
        parties=judged.use.parties,
        reasons=tuple(r.describe() for r in reasons),
        judged_at=at,
    )

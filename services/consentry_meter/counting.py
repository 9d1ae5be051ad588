"""One fetch of usage reports metered: repeats skipped, uses judged as of their moments,
counters changed exactly once, violations found.

A fetch is counted as a whole: each use id against the ``seen`` table and the fetch's
earlier reports, every use of the fetch judged in one replay of the records that bear on
its tracks, and each counter written once with the changes of every report of its
partition that is not in it yet (``consentry_domain.metering.counted_all``). A table key
written from a report of partition ``p`` carries ``p``, so no two partitions' changelogs
hold the same key.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from consentry_domain.audit import Judged, Judgement, Use, judge
from consentry_domain.metering import Counter, counted_all, counters_of, is_repeat, units_of
from consentry_domain.purposes import Taxonomy
from consentry_events import UsageReported, UseViolated
from consentry_events.usage import Use as ReportedUse
from consentry_kafka.tables import PartitionTable
from consentry_meter import metrics
from consentry_meter.history import History


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

    async def count(self, reports: Sequence[Report]) -> Counted:
        await self._history.catch_up()
        fresh, places, as_reported = self._fresh(reports)
        records = self._history.relevant({use.isrc for use in fresh})
        judged = judge(records, fresh, self._taxonomy, now_ms=0, horizon_ms=self._horizon_ms)
        changes: dict[tuple[int, str], list[tuple[int, Decimal]]] = defaultdict(list)
        for item in judged:
            partition, offset = places[item.use.use_id]
            for counter in counters_of(item):
                changes[partition, counter].append((offset, item.use.units))
            metrics.USES.labels(judgement=item.judgement.value, purpose=item.use.purpose).inc()
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
            _violation(as_reported[j.use.use_id], j, at)
            for j in judged
            if j.judgement is Judgement.VIOLATION
        ]
        for violation in violations:
            metrics.VIOLATIONS.labels(
                purpose=violation.use.purpose, reporter=violation.reporter
            ).inc()
        return Counted(counters, violations)

    def _fresh(
        self, reports: Sequence[Report]
    ) -> tuple[list[Use], dict[str, tuple[int, int]], dict[str, tuple[UsageReported, ReportedUse]]]:
        """The fetch's uses not counted before (each use id once: a later report's copy
        is a repeat), where each came from, and each as reported."""
        fresh: list[Use] = []
        places: dict[str, tuple[int, int]] = {}
        as_reported: dict[str, tuple[UsageReported, ReportedUse]] = {}
        for report in sorted(reports, key=lambda r: (r.partition, r.offset)):
            event = report.event
            for use in event.uses:
                key = f"{event.reporter}|{use.use_id}"
                if key in places:
                    metrics.REPEATS.inc()
                    continue
                first = self.seen.get(key)
                if is_repeat(None if first is None else int(first), report.offset):
                    metrics.REPEATS.inc()
                    continue
                if first is None:
                    self.seen.set(report.partition, key, str(report.offset))
                places[key] = (report.partition, report.offset)
                as_reported[key] = (event, use)
                fresh.append(Use.reported(key, use, report.at_ms))
        return fresh, places, as_reported


def _violation(
    reported: tuple[UsageReported, ReportedUse], judged: Judged, at: datetime
) -> UseViolated:
    report, use = reported
    assert judged.answer is not None
    return UseViolated(
        reporter=report.reporter,
        report_id=report.report_id,
        use=use,
        parties=judged.use.parties,
        reasons=tuple(r.describe() for r in judged.answer.reasons),
        judged_at=at,
    )

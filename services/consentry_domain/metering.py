"""Metering, pure: judged uses tallied into the meter's counters, and each counter's
change applied exactly once however often its report is processed again.

Counters are per period -- the UTC day (``d:2026-11-05``) and month (``m:2026-11``) a
use happened in: tumbling calendar windows -- and either per track
(``t|<period>|<isrc>|<purpose>|<model>|<unit kind>|<judgement>``) or per rights holder
(``p|<period>|<party>|...``: every holder of the track at that moment counts the use's
units). Uses refused as too late count nowhere.

**Exactly once.** The meter's counters live in a faust table whose changelog carries
each counter's value together with the offset of the report that last changed it
(``"<units>@<offset>"``). A worker killed after writing some counters of a fetch and
before committing its offsets processes the reports again: a counter that already shows
a report's offset (or a later one of its partition) keeps it, the others get the change
(``counted_all`` sums a fetch's reports into one write per counter). A duplicate use id
(a reporter's retry) is one seen at an *earlier* offset than the report's own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache

from consentry_domain.audit import Judged, Judgement


def periods(at_ms: int) -> tuple[str, str]:
    """The day and month (UTC) of a moment, as counter periods."""
    return _periods_of_day(at_ms // DAY_MS)


DAY_MS = 86_400_000


@lru_cache(maxsize=4096)
def _periods_of_day(day: int) -> tuple[str, str]:
    moment = datetime.fromtimestamp(day * 86_400, UTC)
    return f"d:{moment:%Y-%m-%d}", f"m:{moment:%Y-%m}"


@dataclass(frozen=True, slots=True)
class Counter:
    """One counter's name, split into its parts."""

    level: str
    """``t`` (track) or ``p`` (rights holder)."""
    period: str
    subject: str
    """The ISRC or the party."""
    purpose: str
    model: str
    unit_kind: str
    judgement: str

    def key(self) -> str:
        return "|".join(
            (
                self.level,
                self.period,
                self.subject,
                self.purpose,
                self.model,
                self.unit_kind,
                self.judgement,
            )
        )

    @classmethod
    def parse(cls, key: str) -> Counter:
        level, period, subject, purpose, model, kind, judgement = key.split("|")
        return cls(level, period, subject, purpose, model, kind, judgement)


def counters_of(item: Judged) -> list[str]:
    """The counters a judged use counts in (none when it was too late)."""
    if item.judgement is Judgement.TOO_LATE:
        return []
    use = item.use
    tail = f"|{use.purpose}|{use.model}|{use.unit_kind}|{item.judgement.value}"
    subjects = [f"t|{{}}|{use.isrc}"] + [f"p|{{}}|{party}" for party in use.parties]
    return [head.format(period) + tail for period in periods(use.happened_ms) for head in subjects]


def tally(judged: Iterable[Judged]) -> dict[str, Decimal]:
    """Each counter's change for these judged uses (too-late uses count nowhere)."""
    changes: dict[str, Decimal] = defaultdict(Decimal)
    for item in judged:
        for counter in counters_of(item):
            changes[counter] += item.use.units
    return dict(changes)


def counted(current: str | None, change: Decimal, offset: int) -> str | None:
    """A counter's new value after ``change`` from the report at ``offset``; None when
    that report's change is already in it (the report was processed before)."""
    units, last = Decimal(0), -1
    if current is not None:
        text, at = current.rsplit("@", 1)
        units, last = Decimal(text), int(at)
    if last >= offset:
        return None
    return f"{units + change}@{offset}"


def counted_all(current: str | None, changes: Iterable[tuple[int, Decimal]]) -> str | None:
    """A counter's new value after the changes of several reports (offset, change) of
    one partition; each report's change only if it is not in the value yet. None when
    none is new."""
    by_report: dict[int, Decimal] = defaultdict(Decimal)
    for offset, change in changes:
        by_report[offset] += change
    value = current
    for offset, change in sorted(by_report.items()):
        value = counted(value, change, offset) or value
    return None if value == current else value


def units_of(value: str) -> Decimal:
    return Decimal(value.rsplit("@", 1)[0])


FORGET_MARGIN_MS = 86_400_000
"""How much further past the horizon a use id is kept: slack for reporters' clocks."""


def seen_value(offset: int, happened_ms: int, partition: int) -> str:
    """What the ``seen`` table keeps of a use id: the report that first carried it,
    when the use happened and the partition (whose changelog holds it)."""
    return f"{offset}@{happened_ms}@{partition}"


def first_seen(value: str) -> int:
    """The offset of the report that first carried a use id (values from before the
    moment was kept are the offset alone)."""
    return int(value.split("@", 1)[0])


def forgettable(value: str, log_ms: Mapping[int, int], horizon_ms: int) -> int | None:
    """The partition of a seen use id whose use happened more than the horizon (and a
    day) before ``log_ms[partition]`` -- the moment of the latest report read from that
    partition, not the clock, so a meter catching up forgets nothing early -- else None.
    Any report of that use from then on is refused as too late, so forgetting its id
    cannot make it count twice. Ids kept before moments were recorded, and those of a
    partition not read yet, are kept."""
    parts = value.split("@")
    if len(parts) != 3:
        return None
    _, happened_ms, partition = (int(p) for p in parts)
    if partition not in log_ms:
        return None
    return partition if happened_ms < log_ms[partition] - horizon_ms - FORGET_MARGIN_MS else None


def is_repeat(first_seen: int | None, offset: int) -> bool:
    """A use id first seen at an earlier report than this one's (``offset``) is a repeat;
    seen at this very report it is this report, processed again."""
    return first_seen is not None and first_seen < offset

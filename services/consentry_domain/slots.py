"""Versioned decision slots: the materialised state of one (party, scope, work, purpose).

A slot holds the decisions a party recorded there that can still matter, ordered by the
party's order in the log (the Kafka offset on the party's partition). ``merge`` is
idempotent, commutative and associative -- the slot depends only on the *set* of events
applied, never on their delivery order or on duplicates:

* ``floor`` is the offset of the latest decision that shadows everything before it: a
  withdrawal, or an allow/deny with no effective window (always in force, and latest);
* ``entries`` are the allow/deny decisions at or after the floor, ascending by offset.
  Windowed decisions stay until a later shadowing one arrives, since an older decision
  applies again while a newer one is not (yet, or any more) in force.

The Lua merge in ``consentry_state`` implements exactly this function; a contract test
replays random histories through both.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from consentry_events import Choice, Scope


class ApplyOutcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"
    SKIPPED = "skipped"  # not an event (dead-lettered): only the watermark moved past it


@dataclass(frozen=True, slots=True, order=True)
class SlotKey:
    party: str
    scope: Scope
    work: str  # "" for party-wide, the UPC for a release, the ISRC for a track
    purpose: str


@dataclass(frozen=True, slots=True)
class Entry:
    offset: int
    choice: Choice
    decision_id: str
    effective_from_ms: int | None = None
    expires_at_ms: int | None = None

    @property
    def shadows_older(self) -> bool:
        return self.choice is Choice.WITHDRAWN or (
            self.effective_from_ms is None and self.expires_at_ms is None
        )

    def in_force(self, at_ms: int) -> bool:
        return (self.effective_from_ms is None or self.effective_from_ms <= at_ms) and (
            self.expires_at_ms is None or at_ms < self.expires_at_ms
        )


@dataclass(frozen=True, slots=True)
class Slot:
    floor: int = -1
    entries: tuple[Entry, ...] = ()

    def in_force(self, at_ms: int) -> Entry | None:
        """The latest entry in force at ``at_ms``, if any."""
        for entry in reversed(self.entries):
            if entry.in_force(at_ms):
                return entry
        return None


def merge(slot: Slot, entry: Entry) -> tuple[Slot, ApplyOutcome]:
    if entry.offset == slot.floor or any(e.offset == entry.offset for e in slot.entries):
        return slot, ApplyOutcome.DUPLICATE
    if entry.offset < slot.floor:
        return slot, ApplyOutcome.STALE
    if any(e.decision_id == entry.decision_id for e in slot.entries):
        return slot, ApplyOutcome.DUPLICATE  # the same decision sent again at a later offset
    if entry.shadows_older:
        kept = tuple(e for e in slot.entries if e.offset > entry.offset)
        head = () if entry.choice is Choice.WITHDRAWN else (entry,)
        return Slot(entry.offset, head + kept), ApplyOutcome.APPLIED
    entries = tuple(sorted((*slot.entries, entry), key=lambda e: e.offset))
    return Slot(slot.floor, entries), ApplyOutcome.APPLIED

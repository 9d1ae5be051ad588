"""An in-memory replay of the log: the reference model the Redis state must equal.

``ConsentState`` applies events with the same versioning rules as the materialiser
(slots merged by offset, tracks replaced only by a later offset), so replaying any
delivery order with duplicates yields the same state, and a check against it is the
independent answer that tests compare the real system with.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from consentry_domain.answers import Answer
from consentry_domain.purposes import Taxonomy, ancestors
from consentry_domain.resolve import resolve
from consentry_domain.slots import ApplyOutcome, Entry, Slot, SlotKey, merge
from consentry_domain.state_types import Track, facts_of
from consentry_events import (
    AnyEvent,
    ConsentChanged,
    ConsentChangedMany,
    Decision,
    DelegationChanged,
    DisclosureStated,
    Scope,
    TrackChanged,
    most_inclusive,
)

__all__ = ["ConsentState", "Track", "entry_of", "slot_key_of", "slot_keys_of", "track_of"]


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def slot_key_of(event: ConsentChanged) -> SlotKey:
    work = {Scope.PARTY: "", Scope.RELEASE: event.upc, Scope.TRACK: event.isrc}[event.scope]
    return SlotKey(event.party, event.scope, work or "", event.purpose)


def slot_keys_of(event: Decision) -> list[SlotKey]:
    """The slots a decision is recorded in: one, or one per work of a decision on many."""
    if isinstance(event, ConsentChanged):
        return [slot_key_of(event)]
    return [SlotKey(event.party, event.scope, work, event.purpose) for work in event.works]


def entry_of(event: Decision, offset: int) -> Entry:
    return Entry(
        offset,
        event.choice,
        str(event.decision_id),
        _ms(event.effective_from),
        _ms(event.expires_at),
    )


def many_outcome(outcomes: list[ApplyOutcome]) -> ApplyOutcome:
    """A decision on many works was applied when any of its slots changed; otherwise it
    is what its first slot said (all duplicates on a redelivery)."""
    if ApplyOutcome.APPLIED in outcomes:
        return ApplyOutcome.APPLIED
    return outcomes[0]


def track_of(event: TrackChanged) -> Track:
    facts = facts_of(event.shares, event.ai_credits)
    return Track(
        event.isrc, event.upc, tuple(event.parties), event.status, event.contains_ai, facts
    )


@dataclass(frozen=True, slots=True)
class Statement:
    """A rights holder's latest disclosure statement about one track (None: withdrawn)."""

    offset: int
    statement_id: str
    level: str | None


@dataclass
class ConsentState:
    tracks: dict[str, tuple[int, Track]] = field(default_factory=dict)
    slots: dict[SlotKey, Slot] = field(default_factory=dict)
    statements: dict[tuple[str, str], Statement] = field(default_factory=dict)
    """(ISRC, party) -> its latest disclosure statement."""

    def apply_decision(self, key: SlotKey, entry: Entry) -> ApplyOutcome:
        slot, outcome = merge(self.slots.get(key, Slot()), entry)
        self.slots[key] = slot
        return outcome

    def apply_track(self, offset: int, track: Track) -> ApplyOutcome:
        current = self.tracks.get(track.isrc)
        if current is not None and current[0] >= offset:
            return ApplyOutcome.DUPLICATE if current[0] == offset else ApplyOutcome.STALE
        self.tracks[track.isrc] = (offset, track)
        return ApplyOutcome.APPLIED

    def apply_statement(self, isrc: str, party: str, statement: Statement) -> ApplyOutcome:
        """The later statement by offset replaces the earlier; the same one again (same
        offset, or the standing statement's id re-sent) changes nothing -- exactly a
        slot's merge of an entry without a window (``slots.merge``), as Redis keeps it."""
        current = self.statements.get((isrc, party))
        if current is not None:
            if current.offset == statement.offset:
                return ApplyOutcome.DUPLICATE
            if statement.offset < current.offset:
                return ApplyOutcome.STALE
            if current.level is not None and current.statement_id == statement.statement_id:
                return ApplyOutcome.DUPLICATE
        self.statements[(isrc, party)] = statement
        return ApplyOutcome.APPLIED

    def apply(self, event: AnyEvent, offset: int) -> ApplyOutcome:
        """Decisions, disclosure statements and tracks; a delegation changes who may
        decide, not any answer."""
        if isinstance(event, ConsentChanged | ConsentChangedMany):
            entry = entry_of(event, offset)
            outcomes = [self.apply_decision(key, entry) for key in slot_keys_of(event)]
            return many_outcome(outcomes)
        if isinstance(event, DelegationChanged):
            return ApplyOutcome.APPLIED
        if isinstance(event, DisclosureStated):
            stated = Statement(offset, str(event.statement_id), event.contains_ai)
            return many_outcome(
                [self.apply_statement(isrc, event.party, stated) for isrc in event.works]
            )
        return self.apply_track(offset, track_of(event))

    def track(self, isrc: str) -> Track | None:
        """The track as a check sees it: its disclosure merged with its current rights
        holders' statements."""
        found = self.tracks.get(isrc)
        if found is None:
            return None
        track = found[1]
        stated = [
            s.level
            for party in track.parties
            if (s := self.statements.get((isrc, party))) is not None
        ]
        if not stated:
            return track
        return replace(track, disclosure=most_inclusive([track.disclosure, *stated]))

    def candidates(self, track: Track, purpose: str) -> dict[str, list[tuple[SlotKey, Slot]]]:
        out: dict[str, list[tuple[SlotKey, Slot]]] = {}
        for party in track.parties:
            for scope, work in (
                (Scope.PARTY, ""),
                (Scope.RELEASE, track.upc),
                (Scope.TRACK, track.isrc),
            ):
                for path in ancestors(purpose):
                    key = SlotKey(party, scope, work, path)
                    slot = self.slots.get(key)
                    if slot is not None:
                        out.setdefault(party, []).append((key, slot))
        return out

    def check(self, isrc: str, purpose: str, taxonomy: Taxonomy, at_ms: int) -> Answer:
        track = self.track(isrc)
        candidates = self.candidates(track, purpose) if track else {}
        return resolve(isrc, purpose, track, candidates, taxonomy, at_ms)

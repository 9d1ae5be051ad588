"""A party's hash chain, verified: each event carries the hash of the party's previous
one, and each is signed by a key Consentry trusts.

Pure: it takes the party's events as read from the log (oldest first), each with what
its signature says (``consentry_events.signing.Verdict``), and names the first event
whose ``prev_hash`` is not its predecessor's hash -- a record slipped into, removed from
or altered in the history breaks the chain exactly there -- and the first that is
unsigned, signed by an unknown key or badly signed (authorship: a well-chained event
from a rogue producer). Unsigned events before the cut-over are counted as legacy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from consentry_events import PartyEvent
from consentry_events.logged import LoggedEvent
from consentry_events.signing import Verdict


@dataclass(frozen=True, slots=True)
class BrokenLink:
    partition: int
    offset: int
    event_id: str
    expected_prev_hash: str | None
    found_prev_hash: str | None


@dataclass(frozen=True, slots=True)
class BadSignature:
    partition: int
    offset: int
    event_id: str
    verdict: str
    """unsigned, unknown_key or bad_signature."""


@dataclass(frozen=True, slots=True)
class ChainReport:
    party: str
    events: int
    head: str | None
    """Hash of the party's last event: what its next event must carry."""
    first_broken: BrokenLink | None
    first_bad_signature: BadSignature | None = None
    legacy: int = 0
    """Unsigned events before the cut-over, admitted as history."""

    @property
    def intact(self) -> bool:
        return self.first_broken is None and self.first_bad_signature is None


Signed = tuple[LoggedEvent[PartyEvent], Verdict]


def verify_chain(party: str, records: Sequence[Signed]) -> ChainReport:
    """Walk the party's events in log order: each must be admitted by its signature and
    carry the hash of the admitted one before it. An event not admitted is named and
    left out of the chain (it is not part of the history every reader applies), so the
    genuine event after it is not blamed for it."""
    expected: str | None = None
    broken: BrokenLink | None = None
    bad: BadSignature | None = None
    legacy = 0
    for record, verdict in records:
        if not verdict.admitted:
            if bad is None:
                bad = BadSignature(record.partition, record.offset, record.event_id, verdict.value)
            continue
        legacy += verdict is Verdict.LEGACY
        if broken is None and record.event.prev_hash != expected:
            broken = BrokenLink(
                record.partition, record.offset, record.event_id, expected, record.event.prev_hash
            )
        expected = record.digest
    return ChainReport(party, len(records), expected, broken, bad, legacy)

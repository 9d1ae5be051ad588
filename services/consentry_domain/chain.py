"""A party's hash chain, verified: each event carries the hash of the party's previous one.

Pure: it takes the party's events as read from the log (oldest first) and names the
first event whose ``prev_hash`` is not its predecessor's hash -- a record slipped into,
removed from or altered in the history breaks the chain exactly there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from consentry_events import PartyEvent
from consentry_events.logged import LoggedEvent


@dataclass(frozen=True, slots=True)
class BrokenLink:
    partition: int
    offset: int
    event_id: str
    expected_prev_hash: str | None
    found_prev_hash: str | None


@dataclass(frozen=True, slots=True)
class ChainReport:
    party: str
    events: int
    head: str | None
    """Hash of the party's last event: what its next event must carry."""
    first_broken: BrokenLink | None

    @property
    def intact(self) -> bool:
        return self.first_broken is None


def verify_chain(party: str, records: Sequence[LoggedEvent[PartyEvent]]) -> ChainReport:
    """Walk the party's events in log order: each must carry the hash of the one before."""
    expected: str | None = None
    for record in records:
        if record.event.prev_hash != expected:
            broken = BrokenLink(
                record.partition, record.offset, record.event_id, expected, record.event.prev_hash
            )
            return ChainReport(party, len(records), records[-1].digest, broken)
        expected = record.digest
    return ChainReport(party, len(records), expected, None)

"""A party's hash chain: intact when each event carries its predecessor's hash; else the
first event that does not is named."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from consentry_domain.chain import BadSignature, verify_chain
from consentry_events import CONSENT_CHANGES, Choice, ConsentChanged, PartyEvent, Scope, encode
from consentry_events.logged import LoggedEvent, read_event
from consentry_events.signing import Verdict

PARTY = "artist:chain"


def chain(length: int) -> list[LoggedEvent[PartyEvent]]:
    """``length`` decisions of PARTY, each linked to the one before, at offsets 10, 11 ..."""
    records: list[LoggedEvent[PartyEvent]] = []
    prev: str | None = None
    for i in range(length):
        event = ConsentChanged(
            decision_id=uuid.UUID(int=i + 1),
            party=PARTY,
            purpose="ai",
            choice=Choice.DENY if i % 2 else Choice.ALLOW,
            scope=Scope.PARTY,
            recorded_at=datetime(2026, 1, 1, tzinfo=UTC),
            prev_hash=prev,
        )
        logged = read_event(CONSENT_CHANGES.name, 0, 10 + i, encode(event))
        assert isinstance(logged.event, ConsentChanged)
        records.append(LoggedEvent(logged.topic, 0, logged.offset, logged.event, logged.digest))
        prev = logged.digest
    return records


def signed(records: list[LoggedEvent[PartyEvent]]) -> list[tuple[LoggedEvent[PartyEvent], Verdict]]:
    return [(record, Verdict.SIGNED) for record in records]


def test_an_intact_chain_reports_its_head() -> None:
    records = chain(4)
    report = verify_chain(PARTY, signed(records))
    assert report.intact
    assert (report.events, report.head) == (4, records[-1].digest)
    assert verify_chain(PARTY, []).head is None


def test_an_altered_event_breaks_the_chain_at_the_next_one() -> None:
    records = chain(4)
    altered = records[1].event.model_copy(update={"choice": Choice.ALLOW})
    forged = read_event(CONSENT_CHANGES.name, 0, 11, encode(altered))
    assert isinstance(forged.event, ConsentChanged)
    records[1] = LoggedEvent(forged.topic, 0, 11, forged.event, forged.digest)
    report = verify_chain(PARTY, signed(records))
    assert report.first_broken is not None
    assert report.first_broken.offset == 12
    assert report.first_broken.expected_prev_hash == forged.digest


def test_a_removed_or_slipped_in_event_is_named() -> None:
    records = chain(4)
    removed = verify_chain(PARTY, signed([records[0], *records[2:]]))
    assert removed.first_broken is not None
    assert removed.first_broken.offset == 12
    stranger = chain(1)[0]  # a first event (no prev_hash) slipped in after the first
    slipped = verify_chain(PARTY, signed([records[0], stranger, *records[1:]]))
    assert slipped.first_broken is not None
    assert slipped.first_broken.event_id == stranger.event_id
    assert slipped.first_broken.found_prev_hash is None


def test_events_not_validly_signed_are_named_and_left_out_of_the_chain() -> None:
    records = chain(3)
    # A rogue's event chained onto the real head, slipped in before the next genuine one
    # (which the write API chained onto its own predecessor): the rogue is named, the
    # genuine one is not blamed, and the head is the genuine chain's.
    flipped = records[2].event.model_copy(
        update={"decision_id": uuid.UUID(int=99), "prev_hash": records[1].digest}
    )
    rogue = read_event(CONSENT_CHANGES.name, 0, 12, encode(flipped))
    assert isinstance(rogue.event, ConsentChanged)
    slipped = LoggedEvent(rogue.topic, 0, 12, rogue.event, rogue.digest)
    moved = LoggedEvent(records[2].topic, 0, 13, records[2].event, records[2].digest)
    report = verify_chain(
        PARTY,
        [
            (records[0], Verdict.LEGACY),
            (records[1], Verdict.SIGNED),
            (slipped, Verdict.UNKNOWN_KEY),
            (moved, Verdict.SIGNED),
        ],
    )
    assert report.first_broken is None
    assert not report.intact
    assert report.first_bad_signature == BadSignature(0, 12, str(uuid.UUID(int=99)), "unknown_key")
    assert (report.head, report.legacy, report.events) == (records[2].digest, 1, 4)
    legacy_only = verify_chain(PARTY, [(r, Verdict.LEGACY) for r in records])
    assert legacy_only.intact
    assert legacy_only.legacy == 3

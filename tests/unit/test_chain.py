"""A party's hash chain: intact when each event carries its predecessor's hash; else the
first event that does not is named."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from consentry_domain.chain import verify_chain
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


def test_the_first_event_not_validly_signed_is_named_and_legacy_ones_counted() -> None:
    records = chain(5)
    verdicts = [
        Verdict.LEGACY,
        Verdict.SIGNED,
        Verdict.UNKNOWN_KEY,
        Verdict.UNSIGNED,
        Verdict.SIGNED,
    ]
    report = verify_chain(PARTY, list(zip(records, verdicts, strict=True)))
    assert report.first_broken is None
    assert not report.intact
    assert report.first_bad_signature is not None
    assert (report.first_bad_signature.offset, report.first_bad_signature.verdict) == (
        12,
        "unknown_key",
    )
    assert report.legacy == 1
    legacy_only = verify_chain(PARTY, [(r, Verdict.LEGACY) for r in records])
    assert legacy_only.intact
    assert legacy_only.legacy == 5

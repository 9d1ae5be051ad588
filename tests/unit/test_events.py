"""The event contract: examples, codec, validation and the exported schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest
from pydantic import ValidationError

from consentry_events import ConsentChanged, EnforcementChanged, TrackChanged
from consentry_events.codec import DecodeError, decode, encode, partition_key
from consentry_events.schema import schemas

EXAMPLES = sorted(
    p.name
    for p in resources.files("consentry_events").joinpath("examples").iterdir()
    if p.name.endswith(".json")
)
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_survives_the_producer_and_consumer_side(name: str) -> None:
    raw = resources.files("consentry_events").joinpath("examples", name).read_bytes()
    if name.startswith("enforcement"):
        change = EnforcementChanged.model_validate_json(raw)
        assert EnforcementChanged.model_validate_json(change.model_dump_json()) == change
        return
    event = decode(raw)
    assert decode(encode(event)) == event
    key = partition_key(event)
    assert key == (event.isrc if isinstance(event, TrackChanged) else event.party).encode()


def test_exported_schemas_are_current() -> None:
    for filename, text in schemas().items():
        path = ROOT / "events" / "schemas" / filename
        assert path.read_text() == text, f"run `make schemas`: {path} is out of date"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"scope": "track", "isrc": None}, "scope 'track' needs isrc"),
        ({"scope": "party"}, "scope 'party' covers all the party's works"),
        ({"purpose": "AI Training"}, "purpose"),
        ({"party": "nina"}, "party"),
        (
            {"effective_from": "2027-01-02T00:00:00Z", "expires_at": "2027-01-01T00:00:00Z"},
            "expires_at must be after effective_from",
        ),
        (
            {"choice": "withdrawn", "expires_at": "2027-01-01T00:00:00Z"},
            "a withdrawal takes effect at once",
        ),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_decisions_are_refused_with_the_problem_named(
    change: dict[str, object], problem: str
) -> None:
    raw = resources.files("consentry_events").joinpath("examples", "consent-changed.v1.json")
    base = ConsentChanged.model_validate_json(raw.read_bytes()).model_dump(mode="json")
    with pytest.raises(ValidationError, match=problem):
        ConsentChanged.model_validate({**base, **change})


def test_garbage_is_a_decode_error_that_says_why() -> None:
    with pytest.raises(DecodeError, match="record has no value"):
        decode(None)
    with pytest.raises(DecodeError, match="Invalid JSON"):
        decode(b"\xff\x00")
    with pytest.raises(DecodeError, match="does not match any of the expected tags"):
        decode(b'{"type": "consent.nope"}')


def test_a_track_lists_each_party_once() -> None:
    with pytest.raises(ValidationError, match="parties must not repeat"):
        TrackChanged(
            isrc="GBAYE2400001",
            upc="5012345678900",
            parties=("artist:a", "artist:a"),
            recorded_at=datetime(2026, 11, 24, tzinfo=UTC),
        )

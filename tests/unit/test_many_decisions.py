"""One decision on many works: the event's contract, its meaning in the replayed state
(exactly that many single decisions at its offset), and the rights-holder rule."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from consentry_auth import Principal
from consentry_domain import ApplyOutcome, ConsentState, Track, load_taxonomy
from consentry_events import (
    CATALOGUE,
    CONSENT_CHANGES,
    Choice,
    ConsentChangedMany,
    DecodeError,
    Scope,
    decode,
    encode,
    partition_key,
)
from consentry_events.logged import LoggedEvent, Position
from consentry_events.models import MANY_WORKS_MAX
from consentry_http import Refused
from consentry_state import ToApply, parts
from consentry_writeapi.authorise import holds_every_track, may_decide
from consentry_writeapi.decision_requests import ManyDecisionsRequest
from tests.support.events import decision_event, track_event

TAXONOMY = load_taxonomy()
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def many(
    works: list[str],
    scope: Scope = Scope.TRACK,
    choice: Choice = Choice.DENY,
    *,
    party: str = "label:l",
    purpose: str = "ai.training",
    decision_id: uuid.UUID | None = None,
    expires_at: datetime | None = None,
) -> ConsentChangedMany:
    return ConsentChangedMany(
        decision_id=decision_id or uuid.uuid4(),
        party=party,
        purpose=purpose,
        choice=choice,
        scope=scope,
        works=tuple(works),
        expires_at=expires_at,
        recorded_at=NOW,
    )


def test_it_round_trips_and_is_keyed_by_its_party() -> None:
    event = many(["GBAYE2400001", "GBAYE2400002"])
    assert decode(encode(event)) == event
    assert partition_key(event) == b"label:l"


@pytest.mark.parametrize(
    ("scope", "works", "wrong"),
    [
        (Scope.TRACK, ["GBAYE2400001", "5021732123456"], "works.1: '5021732123456' is not an"),
        (Scope.RELEASE, ["5021732123456", "GBAYE2400001"], "is not a UPC"),
        (Scope.TRACK, ["GBAYE2400001", "GBAYE2400001"], "must not repeat"),
        # Python's $ also matches before a final newline: found by schemathesis in CI
        (Scope.TRACK, ["GBAYE2400001\n"], "is not an ISRC"),
        (Scope.RELEASE, ["5021732123456\n"], "is not a UPC"),
    ],
)
def test_works_must_fit_the_scope_and_not_repeat(
    scope: Scope, works: list[str], wrong: str
) -> None:
    with pytest.raises(ValidationError, match=wrong):
        many(works, scope)


def test_it_is_for_releases_or_tracks_and_bounded() -> None:
    with pytest.raises(ValidationError):
        many(["GBAYE2400001"], Scope.PARTY)
    with pytest.raises(ValidationError):
        many([])
    with pytest.raises(ValidationError):
        many([f"ZZMNY{i:07d}" for i in range(MANY_WORKS_MAX + 1)])
    many([f"ZZMNY{i:07d}" for i in range(MANY_WORKS_MAX)])


def test_a_withdrawal_takes_no_window() -> None:
    with pytest.raises(ValidationError, match="withdrawal takes effect at once"):
        many(["GBAYE2400001"], choice=Choice.WITHDRAWN, expires_at=NOW + timedelta(days=1))


def test_a_record_that_breaks_the_contract_is_a_decode_error() -> None:
    raw = encode(many(["GBAYE2400001"])).replace(b"GBAYE2400001", b"gbaye2400001")
    with pytest.raises(DecodeError, match="works"):
        decode(raw)


ISRCS = [f"ZZMNY{i:07d}" for i in range(6)]
UPCS = ["000000000001", "000000000002"]
TRACKS = [Track(isrc, UPCS[i % 2], ("artist:a", "label:l")) for i, isrc in enumerate(ISRCS)]

decisions_on_many = st.tuples(
    st.sampled_from(["artist:a", "label:l"]),
    st.sampled_from([Scope.RELEASE, Scope.TRACK]),
    st.sampled_from(["ai", "ai.training", "ai.generation.voice"]),
    st.sampled_from(list(Choice)),
    st.data(),
)


@given(st.lists(decisions_on_many, min_size=1, max_size=8))
def test_a_decision_on_many_works_means_that_many_single_decisions(
    decisions: list[tuple[str, Scope, str, Choice, st.DataObject]],
) -> None:
    """Replayed, with redeliveries: every check answers exactly as if each work had been
    decided on its own at the same offset; a redelivery is a duplicate."""
    as_many, as_singles = ConsentState(), ConsentState()
    for offset, track in enumerate(TRACKS):
        for state in (as_many, as_singles):
            state.apply_track(offset, track)
    for offset, (party, scope, purpose, choice, data) in enumerate(decisions, start=100):
        pool = ISRCS if scope is Scope.TRACK else UPCS
        works = data.draw(st.lists(st.sampled_from(pool), min_size=1, unique=True))
        event_id = uuid.UUID(int=offset)
        event = many(works, scope, choice, party=party, purpose=purpose, decision_id=event_id)
        assert as_many.apply(event, offset) is ApplyOutcome.APPLIED  # a new offset
        assert as_many.apply(event, offset) is ApplyOutcome.DUPLICATE
        for work in works:
            single = decision_event(
                party, purpose, choice, scope, upc=work, isrc=work, decision_id_seed=offset
            )
            as_singles.apply(single, offset)
    assert as_many.slots == as_singles.slots
    at = int(NOW.timestamp() * 1000)
    for isrc in ISRCS:
        for purpose in sorted(TAXONOMY.defaults):
            assert as_many.check(isrc, purpose, TAXONOMY, at) == as_singles.check(
                isrc, purpose, TAXONOMY, at
            )


def test_every_track_the_catalogue_knows_must_list_the_party() -> None:
    held = {
        "ZZMNY0000001": Track("ZZMNY0000001", "000000000001", ("artist:a", "label:l")),
        "ZZMNY0000002": Track("ZZMNY0000002", "000000000001", ("artist:b", "label:m")),
        "ZZMNY0000003": Track("ZZMNY0000003", "000000000001", ("artist:c",)),
    }
    holds_every_track("label:l", ["ZZMNY0000001", "ZZMNY0000009"], held)  # 9: not delivered
    with pytest.raises(Refused) as refused:
        holds_every_track("label:l", list(held), held)
    problem = refused.value.problem
    assert problem.reason == "not_rights_holder"
    assert problem.errors is not None
    assert [e.loc for e in problem.errors] == [["body", "works", 1], ["body", "works", 2]]
    assert "holders: artist:b, label:m" in problem.errors[0].msg
    assert "2 of the 3 tracks" in problem.message


def test_who_may_decide_is_the_same_rule_as_for_one_work() -> None:
    with pytest.raises(Refused):
        may_decide(Principal("label:m"), "artist:a", "ai.training", [])


REQUEST: TypeAdapter[object] = TypeAdapter(ManyDecisionsRequest)


def test_the_request_names_the_work_at_fault() -> None:
    body = {"party": "label:l", "purpose": "ai", "choice": "deny", "scope": "track"}
    with pytest.raises(ValidationError) as bad:
        REQUEST.validate_python({**body, "works": ["ZZMNY0000001", "5021732123456"]})
    assert [e["loc"] for e in bad.value.errors()] == [("track", "deny", "works", 1)]
    with pytest.raises(ValidationError, match="ZZMNY0000001 more than once"):
        REQUEST.validate_python({**body, "works": ["ZZMNY0000001"] * 2})
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        REQUEST.validate_python(
            {
                **body,
                "choice": "withdrawn",
                "works": ["ZZMNY0000001"],
                "expires_at": "2030-01-01T00:00:00Z",
            }
        )
    releases = REQUEST.validate_python({**body, "scope": "release", "works": ["5021732123456"]})
    assert isinstance(releases, BaseModel)
    assert releases.model_dump()["works"] == ["5021732123456"]


def test_a_batch_is_cut_by_writes_and_a_decision_on_many_stays_whole() -> None:
    track = LoggedEvent(CATALOGUE.name, 0, 1, track_event("ZZMNY0000001", "000000000001", ["a:b"]))
    large = LoggedEvent(CONSENT_CHANGES.name, 0, 2, many([f"ZZMNY{i:07d}" for i in range(700)]))
    small = LoggedEvent(CONSENT_CHANGES.name, 0, 3, many(["ZZMNY0000001", "ZZMNY0000002"]))
    skipped = Position(CONSENT_CHANGES.name, 0, 4)
    batch: list[ToApply] = [track, track, large, small, skipped, track]
    assert parts(batch, 500) == [[track, track], [large], [small, skipped, track]]
    assert parts(batch, 702) == [[track, track, large], [small, skipped, track]]
    assert [len(p) for p in parts([track] * 1001, 500)] == [500, 500, 1]

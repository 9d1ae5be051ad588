"""AI disclosure in the domain: the most AI-inclusive wins; a rights holder's statement is
kept by offset like a decision; only current holders' statements count; a purpose may
deny disclosed AI, and says so; every answer carries the disclosure."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentry_domain import ApplyOutcome, Basis, ConsentState, Track, Verdict, resolve
from consentry_domain.errors import TaxonomyError
from consentry_domain.purposes import parse_taxonomy
from consentry_domain.state import Statement
from consentry_events import DisclosureStated, TrackChanged, most_inclusive
from consentry_events.disclosure import AI_ORDER
from consentry_state import layout

TAXONOMY = parse_taxonomy(
    '[purposes]\n"ai" = "allow"\n"ai.dj" = "allow"\n"ai.dj.mix" = "allow"\n'
    '[exclude_ai]\n"ai.dj" = ["all", "partly"]\n'
)
ISRC, UPC = "ZZDSC0000001", "000000000001"
NOW = datetime.now(UTC)
levels = st.sampled_from([None, "none", "partly", "all"])


@given(st.lists(levels))
def test_the_most_inclusive_is_never_less_inclusive_than_any(found: list[str | None]) -> None:
    best = most_inclusive(found)
    assert all(AI_ORDER[best] >= AI_ORDER[level] for level in found)
    assert best in [*found, None]


def stated(party: str, level: str | None, seed: int) -> DisclosureStated:
    return DisclosureStated(
        statement_id=uuid.UUID(int=seed),
        party=party,
        works=(ISRC,),
        contains_ai=level,
        recorded_at=NOW,
    )


def test_holders_statements_merge_with_the_delivery_and_a_stranger_counts_for_nothing() -> None:
    state = ConsentState()
    track = TrackChanged(
        isrc=ISRC, upc=UPC, parties=("artist:a", "label:l"), contains_ai="none", recorded_at=NOW
    )
    state.apply(track, 1)
    assert state.track(ISRC) == Track(ISRC, UPC, ("artist:a", "label:l"), disclosure="none")
    assert state.apply(stated("publisher:p", "all", 1), 2) is ApplyOutcome.APPLIED
    assert state.track(ISRC).disclosure == "none", "not a rights holder of the track"  # type: ignore[union-attr]
    state.apply(stated("artist:a", "partly", 2), 3)
    assert state.track(ISRC).disclosure == "partly"  # type: ignore[union-attr]
    state.apply(stated("artist:a", None, 3), 4)  # withdrawn: the delivery's again
    assert state.track(ISRC).disclosure == "none"  # type: ignore[union-attr]


def test_a_statement_is_kept_by_offset_like_a_decision() -> None:
    state = ConsentState()
    steps = [
        (Statement(5, "s5", "all"), ApplyOutcome.APPLIED),
        (Statement(5, "s5", "all"), ApplyOutcome.DUPLICATE),
        (Statement(3, "s3", "none"), ApplyOutcome.STALE),
        (Statement(9, "s5", "all"), ApplyOutcome.DUPLICATE),  # the standing one, re-sent
        (Statement(9, "s9", None), ApplyOutcome.APPLIED),
        (Statement(12, "s9", None), ApplyOutcome.APPLIED),  # a withdrawal keeps no id
    ]
    for statement, outcome in steps:
        assert state.apply_statement(ISRC, "artist:a", statement) is outcome, statement


def test_a_purpose_excluding_disclosed_ai_denies_with_that_reason() -> None:
    track = Track(ISRC, UPC, ("artist:a",), disclosure="partly")
    expected = {"ai": Verdict.ALLOW, "ai.dj": Verdict.DENY, "ai.dj.mix": Verdict.DENY}
    for purpose, verdict in expected.items():
        answer = resolve(ISRC, purpose, track, {}, TAXONOMY, 0)
        assert (answer.verdict, answer.disclosure) == (verdict, "partly")
    denied = resolve(ISRC, "ai.dj", track, {}, TAXONOMY, 0)
    assert denied.reasons[-1].basis is Basis.AI_DISCLOSURE
    assert denied.reasons[-1].describe() == "disclosed as AI-made, excluded from ai.dj"
    undisclosed = resolve(ISRC, "ai.dj", Track(ISRC, UPC, ("artist:a",)), {}, TAXONOMY, 0)
    assert (undisclosed.verdict, undisclosed.disclosure) == (Verdict.ALLOW, None)


@pytest.mark.parametrize(
    "table",
    ['"ai.nope" = ["all"]', '"ai.dj" = ["most"]', '"ai.dj" = "all"'],
)
def test_a_wrong_exclusion_is_refused_with_its_reason(table: str) -> None:
    with pytest.raises(TaxonomyError, match="exclude_ai"):
        parse_taxonomy(f'[purposes]\n"ai" = "allow"\n"ai.dj" = "allow"\n[exclude_ai]\n{table}\n')


def test_the_layout_reads_the_record_and_the_statements_back() -> None:
    record = f"7|{UPC}|a|artist:a label:l|P|0123abcd4567"
    offset, track = layout.decode_track(ISRC, record)  # type: ignore[misc]
    assert (offset, track.disclosure, track.facts) == (7, "partly", "0123abcd4567")
    slots = "label:l|!ai|9|9,A,AAAAAAAAAAAAAAAAAAAAAA,,\nartist:a|!ai|12|\nartist:a|ai.dj|-1|"
    assert layout.statements(slots) == {"label:l": "all"}, "a withdrawn statement leaves none"
    assert [g.purpose for g in layout.decode_group(slots)] == ["ai.dj"], "no decision among them"


def test_a_withdrawn_statement_credits_no_ai() -> None:
    credit = {"role": "Vocalist", "contribution": "all"}
    with pytest.raises(ValueError, match="withdrawn statement"):
        DisclosureStated.model_validate(
            {
                "statement_id": uuid.uuid4(),
                "party": "artist:a",
                "works": ["GBAAA2600001"],
                "contains_ai": None,
                "ai_credits": [credit],
                "recorded_at": datetime.now(UTC),
            }
        )


def test_free_text_must_be_unicode_an_event_can_hold() -> None:
    """JSON can carry a lone surrogate (``json.loads``, as the web framework reads a body,
    keeps it); UTF-8 (every event) cannot: pydantic refuses it in a length-bounded string,
    and every free-text field of an event is bounded."""
    record = {
        "isrc": "GBAAA2600001",
        "upc": "123456789012",
        "parties": ["artist:a"],
        "recorded_at": datetime.now(UTC),
    }
    assert TrackChanged.model_validate_json(
        TrackChanged.model_validate({**record, "title": "Nordlys \U0001f30c"}).model_dump_json()
    )
    with pytest.raises(ValueError, match=r"(?i)unicode"):
        TrackChanged.model_validate({**record, **json.loads('{"title": "a\\ud800"}')})

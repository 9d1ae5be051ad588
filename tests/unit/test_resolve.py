"""Resolution rules of DESIGN §2, by example and by property."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from consentry_domain import (
    Basis,
    ConsentState,
    Entry,
    SlotKey,
    Track,
    Verdict,
    load_taxonomy,
)
from consentry_events import Choice, Scope, TrackStatus

TAXONOMY = load_taxonomy()
T, T2, T3 = "GBAAA0000001", "GBAAA0000002", "GBAAA0000003"
R, R2 = "5000000000001", "5000000000002"
ARTIST, LABEL, FEATURED, OTHER = "artist:a", "label:l", "artist:f", "publisher:p"
NOW = 1_000_000


def state_with_tracks() -> ConsentState:
    state = ConsentState()
    state.apply_track(0, Track(T, R, (ARTIST, LABEL)))
    state.apply_track(1, Track(T2, R, (ARTIST, LABEL, FEATURED)))
    state.apply_track(2, Track(T3, R2, (LABEL,)))
    return state


def decide(
    state: ConsentState,
    offset: int,
    party: str,
    scope: Scope,
    purpose: str,
    choice: Choice,
    work: str = "",
    start: int | None = None,
    end: int | None = None,
) -> None:
    state.apply_decision(
        SlotKey(party, scope, work, purpose), Entry(offset, choice, f"{party}#{offset}", start, end)
    )


def test_design_example_label_party_wide_deny_beats_artist_track_allow() -> None:
    state = state_with_tracks()
    decide(state, 10, LABEL, Scope.PARTY, "ai", Choice.DENY)
    decide(state, 11, ARTIST, Scope.TRACK, "ai.training", Choice.ALLOW, T)
    answer = state.check(T, "ai.training", TAXONOMY, NOW)
    assert answer.verdict is Verdict.DENY
    assert [r.describe() for r in answer.reasons] == ["label:l, party-wide, ai"]
    # L then allows ai.training on T's release: its release decision beats its party-wide one.
    decide(state, 12, LABEL, Scope.RELEASE, "ai.training", Choice.ALLOW, R)
    answer = state.check(T, "ai.training", TAXONOMY, NOW)
    assert answer.verdict is Verdict.ALLOW
    assert {r.describe() for r in answer.reasons} == {
        f"label:l, release {R}, ai.training",
        f"artist:a, track {T}, ai.training",
    }


def test_most_specific_purpose_wins_within_a_scope() -> None:
    state = state_with_tracks()
    decide(state, 1, ARTIST, Scope.PARTY, "ai.generation.stems", Choice.ALLOW)
    decide(state, 2, ARTIST, Scope.PARTY, "ai.generation", Choice.DENY)
    stems = state.check(T, "ai.generation.stems", TAXONOMY, NOW)
    assert stems.allowed, "ai.generation.stems is more specific than the later ai.generation"
    denied = state.check(T, "ai.generation", TAXONOMY, NOW)
    assert [r.describe() for r in denied.reasons] == ["artist:a, party-wide, ai.generation"]
    assert state.check(T3, "ai.generation", TAXONOMY, NOW).allowed  # the artist is not on T3


def test_silent_parties_contribute_the_purpose_default() -> None:
    state = state_with_tracks()
    allow = state.check(T, "ai.training", TAXONOMY, NOW)
    assert allow.allowed
    assert {r.basis for r in allow.reasons} == {Basis.DEFAULT}
    voice = state.check(T, "ai.generation.voice", TAXONOMY, NOW)  # opt-in purpose
    assert voice.verdict is Verdict.DENY
    assert len(voice.reasons) == 2


def test_a_featured_artist_opt_out_denies_only_their_tracks() -> None:
    state = state_with_tracks()
    decide(state, 1, FEATURED, Scope.PARTY, "ai", Choice.DENY)
    assert state.check(T2, "ai.dj", TAXONOMY, NOW).verdict is Verdict.DENY
    assert state.check(T, "ai.dj", TAXONOMY, NOW).allowed


def test_unknown_retired_track_and_unknown_purpose_are_denied_with_the_reason() -> None:
    state = state_with_tracks()
    state.apply_track(5, Track(T3, R2, (LABEL,), TrackStatus.RETIRED))
    cases = {
        ("ZZZZZ0000000", "ai"): Basis.UNKNOWN_TRACK,
        (T3, "ai"): Basis.RETIRED_TRACK,
        (T, "ai.telepathy"): Basis.UNKNOWN_PURPOSE,
    }
    for (isrc, purpose), basis in cases.items():
        answer = state.check(isrc, purpose, TAXONOMY, NOW)
        assert answer.verdict is Verdict.DENY
        assert [r.basis for r in answer.reasons] == [basis]


def test_effective_window_switches_the_answer_at_the_instant() -> None:
    state = state_with_tracks()
    decide(state, 1, ARTIST, Scope.TRACK, "ai.training", Choice.DENY, T, start=500, end=900)
    assert state.check(T, "ai.training", TAXONOMY, 499).allowed
    assert not state.check(T, "ai.training", TAXONOMY, 500).allowed
    assert not state.check(T, "ai.training", TAXONOMY, 899).allowed
    assert state.check(T, "ai.training", TAXONOMY, 900).allowed


# --- properties -------------------------------------------------------------------

PARTIES = [ARTIST, LABEL, FEATURED, OTHER]
PURPOSES = sorted(TAXONOMY.defaults)
WORKS = {Scope.PARTY: [""], Scope.RELEASE: [R, R2], Scope.TRACK: [T, T2, T3]}


@st.composite
def decisions(draw: st.DrawFn, parties: list[str] = PARTIES) -> tuple[SlotKey, Entry]:
    scope = draw(st.sampled_from(list(Scope)))
    key = SlotKey(
        draw(st.sampled_from(parties)),
        scope,
        draw(st.sampled_from(WORKS[scope])),
        draw(st.sampled_from(PURPOSES)),
    )
    choice = draw(st.sampled_from(list(Choice)))
    start = end = None
    if choice is not Choice.WITHDRAWN and draw(st.booleans()):
        start = draw(st.one_of(st.none(), st.integers(0, 2 * NOW)))
        end = draw(st.one_of(st.none(), st.integers(2 * NOW + 1, 4 * NOW)))
    return key, Entry(0, choice, "x", start, end)


def build(history: list[tuple[SlotKey, Entry]]) -> ConsentState:
    state = state_with_tracks()
    for offset, (key, entry) in enumerate(history, start=100):
        state.apply_decision(
            key,
            Entry(offset, entry.choice, f"d{offset}", entry.effective_from_ms, entry.expires_at_ms),
        )
    return state


@given(
    st.lists(decisions(), max_size=25),
    decisions(),
    st.sampled_from([T, T2, T3]),
    st.sampled_from(PURPOSES),
    st.integers(0, 4 * NOW),
)
def test_adding_a_deny_never_turns_deny_into_allow(
    history: list[tuple[SlotKey, Entry]],
    extra: tuple[SlotKey, Entry],
    isrc: str,
    purpose: str,
    at: int,
) -> None:
    key, entry = extra
    before = build(history).check(isrc, purpose, TAXONOMY, at)
    deny = Entry(0, Choice.DENY, "x", entry.effective_from_ms, entry.expires_at_ms)
    after = build([*history, (key, deny)]).check(isrc, purpose, TAXONOMY, at)
    if before.verdict is Verdict.DENY:
        assert after.verdict is Verdict.DENY


@given(
    st.lists(decisions(), max_size=25),
    st.lists(decisions(parties=[OTHER]), max_size=10),
    st.sampled_from([T, T2, T3]),
    st.sampled_from(PURPOSES),
    st.integers(0, 4 * NOW),
)
def test_a_party_never_affects_a_track_it_holds_no_rights_in(
    history: list[tuple[SlotKey, Entry]],
    outsider: list[tuple[SlotKey, Entry]],
    isrc: str,
    purpose: str,
    at: int,
) -> None:
    without = build(history).check(isrc, purpose, TAXONOMY, at)
    mixed = build([*history, *outsider]).check(isrc, purpose, TAXONOMY, at)
    assert mixed == without

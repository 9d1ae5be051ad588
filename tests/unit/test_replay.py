"""Replaying the log: any delivery order per party, with duplicates, gives the same state."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from consentry_domain import ConsentState, Entry, SlotKey, Track, load_taxonomy
from consentry_events import Choice, Scope, TrackStatus

TAXONOMY = load_taxonomy()
Record = tuple[int, Track | tuple[SlotKey, Entry]]
PARTIES = ["artist:a", "artist:b", "label:l"]
TRACKS = {
    "GBAAA0000001": ("5000000000001", ("artist:a", "label:l")),
    "GBAAA0000002": ("5000000000001", ("artist:b", "label:l")),
}


@st.composite
def logs(draw: st.DrawFn) -> list[Record]:
    """(offset, payload) records: catalogue versions and each party's decisions."""
    records: list[Record] = []
    offset = 0
    for isrc, (upc, _) in TRACKS.items():
        for _ in range(draw(st.integers(1, 3))):
            offset += 1
            status = draw(st.sampled_from(list(TrackStatus)))
            shown = draw(st.lists(st.sampled_from(PARTIES), min_size=1, max_size=3, unique=True))
            records.append((offset, Track(isrc, upc, tuple(shown), status)))
    for _ in range(draw(st.integers(0, 20))):
        offset += 1
        scope = draw(st.sampled_from(list(Scope)))
        work = {Scope.PARTY: "", Scope.RELEASE: "5000000000001"}.get(
            scope, draw(st.sampled_from(sorted(TRACKS)))
        )
        key = SlotKey(
            draw(st.sampled_from(PARTIES)),
            scope,
            work,
            draw(st.sampled_from(sorted(TAXONOMY.defaults))),
        )
        choice = draw(st.sampled_from(list(Choice)))
        window: tuple[int | None, int | None] = (None, None)
        if choice is not Choice.WITHDRAWN and draw(st.booleans()):
            window = (draw(st.integers(0, 100)), draw(st.integers(101, 200)))
        records.append((offset, (key, Entry(offset, choice, f"d{offset}", *window))))
    return records


def apply(state: ConsentState, record: Record) -> None:
    offset, payload = record
    if isinstance(payload, Track):
        state.apply_track(offset, payload)
    else:
        state.apply_decision(*payload)


def replay(records: list[Record]) -> ConsentState:
    state = ConsentState()
    for record in records:
        apply(state, record)
    return state


@given(logs(), st.data())
def test_any_delivery_order_with_duplicates_replays_to_the_same_state(
    records: list[Record], data: st.DataObject
) -> None:
    clean = replay(records)
    duplicates = data.draw(st.lists(st.sampled_from(records), max_size=10)) if records else []
    delivered = data.draw(st.permutations(records + duplicates))
    messy = replay(list(delivered))
    assert messy.tracks == clean.tracks
    assert messy.slots == clean.slots
    for isrc in TRACKS:
        for purpose in TAXONOMY.defaults:
            for at in (0, 150, 300):
                assert messy.check(isrc, purpose, TAXONOMY, at) == clean.check(
                    isrc, purpose, TAXONOMY, at
                )

"""Decision slots: the state depends on the set of events only (DESIGN §2 properties)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from consentry_domain import ApplyOutcome, Entry, Slot, merge
from consentry_events import Choice

windows = st.one_of(
    st.tuples(st.none(), st.none()),
    st.tuples(st.integers(0, 100), st.none()),
    st.tuples(st.none(), st.integers(1, 100)),
    st.tuples(st.integers(0, 50), st.integers(51, 100)),
)


@st.composite
def histories(draw: st.DrawFn) -> list[Entry]:
    """A party's events at one slot: distinct offsets, any choices and windows."""
    offsets = draw(st.lists(st.integers(0, 40), min_size=1, max_size=12, unique=True))
    out = []
    for offset in offsets:
        choice = draw(st.sampled_from(list(Choice)))
        start, end = (None, None) if choice is Choice.WITHDRAWN else draw(windows)
        out.append(Entry(offset, choice, f"d{offset}", start, end))
    return out


def replay(entries: list[Entry]) -> Slot:
    slot = Slot()
    for entry in entries:
        slot, _ = merge(slot, entry)
    return slot


@given(histories(), st.data())
def test_any_order_with_duplicates_gives_the_in_order_state(
    history: list[Entry], data: st.DataObject
) -> None:
    in_order = replay(sorted(history, key=lambda e: e.offset))
    delivered = history + data.draw(st.lists(st.sampled_from(history), max_size=8))
    shuffled = data.draw(st.permutations(delivered))
    assert replay(list(shuffled)) == in_order


@given(histories(), st.integers(0, 120))
def test_the_latest_decision_in_force_wins(history: list[Entry], at: int) -> None:
    ordered = sorted(history, key=lambda e: e.offset)
    last_withdrawal = max((e.offset for e in ordered if e.choice is Choice.WITHDRAWN), default=-1)
    expected = None
    for entry in ordered:
        current = entry.offset > last_withdrawal and entry.choice is not Choice.WITHDRAWN
        if current and entry.in_force(at):
            expected = entry
    assert replay(ordered).in_force(at) == expected


def test_redelivery_is_a_duplicate_and_older_news_is_stale() -> None:
    deny = Entry(5, Choice.DENY, "d5")
    slot, outcome = merge(Slot(), deny)
    assert outcome is ApplyOutcome.APPLIED
    assert merge(slot, deny) == (slot, ApplyOutcome.DUPLICATE)
    assert merge(slot, Entry(3, Choice.ALLOW, "d3")) == (slot, ApplyOutcome.STALE)


def test_a_withdrawal_forgets_the_slot() -> None:
    slot = replay([Entry(1, Choice.DENY, "d1"), Entry(2, Choice.WITHDRAWN, "w2")])
    assert slot.in_force(0) is None
    assert slot.floor == 2


def test_an_older_decision_applies_while_a_newer_one_is_not_yet_in_force() -> None:
    slot = replay([Entry(1, Choice.DENY, "now"), Entry(2, Choice.ALLOW, "later", 1_000, None)])
    assert slot.in_force(999).decision_id == "now"  # type: ignore[union-attr]
    assert slot.in_force(1_000).decision_id == "later"  # type: ignore[union-attr]

"""Which downstream system owes which receipt (``consentry_domain.receipts.owed``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from consentry_domain.purposes import covers
from consentry_domain.receipts import Owed, Terms, owed

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MS = int(T0.timestamp() * 1000)


def test_a_system_owes_changes_of_its_purposes_and_those_under_them() -> None:
    dj = Terms("ai-dj", ("ai.dj",), T0, 60)
    voice = Terms("voices", ("ai.generation",), T0, 10)
    later = T0 + timedelta(seconds=5)
    assert owed([dj, voice], "ai.generation.voice", later) == [Owed("voices", MS + 15_000)]
    assert owed([dj, voice], "ai.dj", later) == [Owed("ai-dj", MS + 65_000)]
    assert owed([dj, voice], "ai.training", later) == []
    assert owed([voice], "ai", later) == [], "a wider purpose is not one of its purposes"


def test_nothing_is_owed_for_changes_before_the_registration() -> None:
    system = Terms("t", ("ai",), T0, 60)
    assert owed([system], "ai.training", T0 - timedelta(milliseconds=1)) == []
    assert owed([system], "ai.training", T0) == [Owed("t", MS + 60_000)]


purposes = st.sampled_from(["ai", "ai.training", "ai.generation", "ai.generation.voice", "ai.dj"])


@given(
    st.lists(
        st.tuples(st.lists(purposes, min_size=1, max_size=3), st.integers(-100, 100)),
        max_size=6,
    ),
    purposes,
    st.integers(1, 3_600),
)
def test_owed_exactly_by_the_systems_covering_it_since_before(
    registered: list[tuple[list[str], int]], purpose: str, deadline_s: int
) -> None:
    systems = [
        Terms(f"s{n}", tuple(ps), T0 + timedelta(seconds=at), deadline_s)
        for n, (ps, at) in enumerate(registered)
    ]
    got = owed(systems, purpose, T0)
    expected = {
        s.name
        for s in systems
        if s.registered_at <= T0 and any(covers(p, purpose) for p in s.purposes)
    }
    assert {o.system for o in got} == expected
    assert all(o.due_ms == MS + deadline_s * 1000 for o in got)

"""The benchmark's search for the highest rate a server holds (``highest_held``): found
within its resolution wherever it lies, above the start or far below it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from consentry_bench.http import highest_held


def test_a_slow_machine_is_measured_below_the_start() -> None:
    tried: list[int] = []

    def holds(rate: int) -> bool:
        tried.append(rate)
        return rate <= 1_700

    found = highest_held(holds, 4_000)
    assert 1_700 * 0.95 <= found <= 1_700
    assert tried[:3] == [4_000, 2_000, 1_000]


def test_nothing_held_down_to_the_floor_reads_zero() -> None:
    assert highest_held(lambda rate: False, 4_000, floor=100) == 0


@given(st.integers(100, 200_000), st.integers(100, 20_000))
def test_found_within_the_resolution_of_the_true_limit(limit: int, start: int) -> None:
    tried: list[int] = []

    def holds(rate: int) -> bool:
        tried.append(rate)
        return rate <= limit

    found = highest_held(holds, start, most_steps=40)
    assert found <= limit
    assert found >= limit * 0.95 - 1
    assert found in tried

"""The rule that decides when checks fail closed (``consentry_domain.freshness``): each
case on its own, and a property over any interleaving of appends, applies and
measurements (with or without the broker's answer): the moment claimed is never later
than what Redis holds -- every record acknowledged before it is applied."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from consentry_domain.freshness import Measured, Seen, measure


def test_caught_up_is_complete_up_to_the_moment_the_broker_was_asked() -> None:
    got = measure(Seen(), asked_at_ms=5_000, log_end=10, applied_offset=9)
    assert got == Measured(Seen(caught_up_at_ms=5_000), 5_000, 0)


def test_behind_is_complete_up_to_the_last_caught_up_moment_or_applied_record() -> None:
    seen = Seen(caught_up_at_ms=4_000, applied_at_ms=4_500)
    got = measure(seen, asked_at_ms=5_000, log_end=12, applied_offset=9)
    assert got == Measured(seen, 4_500, 2)
    earlier = Seen(caught_up_at_ms=4_800, applied_at_ms=1_000)
    assert measure(earlier, 5_000, 12, 9).complete_to_ms == 4_800


def test_a_quiet_partition_that_just_got_a_record_stays_fresh() -> None:
    """Its last record is minutes old, but it was seen caught up a moment ago."""
    seen = Seen(caught_up_at_ms=299_000, applied_at_ms=60_000)
    assert measure(seen, 300_000, log_end=8, applied_offset=6).complete_to_ms == 299_000


def test_no_answer_from_the_broker_claims_nothing_new() -> None:
    seen = Seen(caught_up_at_ms=4_000)
    assert measure(seen, 5_000, log_end=None, applied_offset=9) == Measured(seen, None, None)


def test_never_seen_and_nothing_applied_claims_nothing() -> None:
    assert measure(Seen(), 5_000, log_end=3, applied_offset=-1).complete_to_ms == 0


def test_applying_older_records_does_not_move_the_applied_time_back() -> None:
    seen = Seen(applied_at_ms=900).applied([100, 800])
    assert seen.applied_at_ms == 900
    assert seen.applied([]).applied_at_ms == 900
    assert seen.applied([950, 920]).applied_at_ms == 950


@dataclass
class Partition:
    """A partition's log with its records' times, and how much of it is applied."""

    times: list[int] = field(default_factory=list)
    applied: int = 0
    """Records applied (the first ``applied`` offsets)."""


steps = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers(1, 50)),
        st.tuples(st.just("apply"), st.integers(1, 5)),
        st.tuples(st.just("measure"), st.integers(0, 1)),  # 1: the broker answered
    ),
    max_size=60,
)


@settings(max_examples=400, deadline=None)
@given(steps)
def test_the_moment_claimed_is_never_past_what_is_applied(plan: list[tuple[str, int]]) -> None:
    log, seen, now, claimed = Partition(), Seen(), 1_000, 0
    for kind, arg in plan:
        now += 1
        if kind == "append":
            for _ in range(arg):
                log.times.append(now)
                now += 1
        elif kind == "apply":
            newly = log.times[log.applied : log.applied + arg]
            log.applied += len(newly)
            seen = seen.applied(newly)
        else:
            answered = arg == 1
            got = measure(seen, now, len(log.times) if answered else None, log.applied - 1)
            seen = got.seen
            if got.complete_to_ms is not None:
                assert got.complete_to_ms <= now
                claimed = got.complete_to_ms
            if answered:
                assert got.lag == len(log.times) - log.applied
        acknowledged_before = [o for o, t in enumerate(log.times) if t < claimed]
        assert all(o < log.applied for o in acknowledged_before), (claimed, log)

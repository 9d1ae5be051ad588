"""The meter's counters (consentry_domain.metering): periods, tallies, exactly once."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from consentry_domain import load_taxonomy
from consentry_domain.audit import Judged, Judgement, Use, judge
from consentry_domain.metering import (
    DAY_MS,
    FORGET_MARGIN_MS,
    Counter,
    counted,
    counted_all,
    first_seen,
    forgettable,
    is_repeat,
    periods,
    seen_value,
    tally,
    units_of,
)

TAXONOMY = load_taxonomy()

NOV_30_LATE = 1_796_083_199_000  # 2026-11-30T23:59:59Z
DEC_1 = NOV_30_LATE + 1_000


def judged(use_id: str, at_ms: int, verdict: Judgement, units: str = "2") -> Judged:
    use = Use(
        use_id,
        "GBAYE2600001",
        "ai.training",
        Decimal(units),
        "generation",
        "m1",
        at_ms,
        parties=("artist:a", "label:l"),
    )
    return Judged(use, verdict, None)


def test_periods_are_utc_calendar_days_and_months() -> None:
    assert periods(NOV_30_LATE) == ("d:2026-11-30", "m:2026-11")
    assert periods(DEC_1) == ("d:2026-12-01", "m:2026-12")


def test_each_use_counts_for_its_track_and_every_holder_in_its_day_and_month() -> None:
    changes = tally(
        [
            judged("u1", NOV_30_LATE, Judgement.ALLOWED),
            judged("u2", DEC_1, Judgement.VIOLATION, "3"),
            judged("u3", DEC_1, Judgement.TOO_LATE, "5"),
        ]
    )
    november = {Counter.parse(k) for k in changes if "m:2026-11" in k}
    assert {(c.level, c.subject, c.judgement) for c in november} == {
        ("t", "GBAYE2600001", "allowed"),
        ("p", "artist:a", "allowed"),
        ("p", "label:l", "allowed"),
    }
    december = {k: v for k, v in changes.items() if "|m:2026-12|" in k}
    assert set(december.values()) == {Decimal(3)}  # the violation; too late counts nowhere
    assert all(Counter.parse(k).judgement == "violation" for k in december)
    for key in changes:
        assert Counter.parse(key).key() == key


def test_a_report_processed_again_changes_no_counter() -> None:
    first = counted(None, Decimal(2), offset=7)
    assert first == "2@7"
    assert counted(first, Decimal(2), offset=7) is None
    later = counted(first, Decimal("0.5"), offset=9)
    assert later is not None
    assert units_of(later) == Decimal("2.5")


def test_a_fetch_writes_each_counter_once_with_every_new_reports_change() -> None:
    current = "5@3"  # reports up to offset 3 are in it
    changes = [(3, Decimal(9)), (4, Decimal(1)), (4, Decimal(2)), (6, Decimal("0.5"))]
    assert counted_all(current, changes) == "8.5@6"
    assert counted_all("8.5@6", changes) is None  # the fetch again: nothing new


def test_a_use_id_is_a_repeat_only_when_an_earlier_report_carried_it() -> None:
    assert not is_repeat(None, 5)
    assert not is_repeat(5, 5)  # this report, processed again
    assert is_repeat(4, 5)


@given(
    st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=30),
    st.data(),
)
def test_replaying_any_prefix_again_counts_every_report_once(
    units: list[int], data: st.DataObject
) -> None:
    """A worker that dies after any report and starts again from an earlier offset
    ends with the same counter as one that never died."""
    value: str | None = None
    crash_at = data.draw(st.integers(min_value=0, max_value=len(units) - 1))
    resume_from = data.draw(st.integers(min_value=0, max_value=crash_at))
    for offset in [*range(crash_at + 1), *range(resume_from, len(units))]:
        value = counted(value, Decimal(units[offset]), offset) or value
    assert value is not None
    assert units_of(value) == sum(units)


def test_a_use_id_is_forgotten_only_once_its_use_is_past_the_horizon_in_the_log() -> None:
    """Kept: the report that first carried the id, when its use happened and the
    partition. Forgotten once the latest report read from that partition is more than
    the horizon and a day after the use -- any report of the use from then on is refused
    as too late, so forgetting cannot make it count twice."""
    horizon = 35 * DAY_MS
    value = seen_value(7, 10 * DAY_MS, 3)
    assert first_seen(value) == 7
    assert first_seen("7") == 7, "ids seen before moments were kept"
    just_kept = {3: 10 * DAY_MS + horizon + FORGET_MARGIN_MS}
    assert forgettable(value, just_kept, horizon) is None
    assert forgettable(value, {3: just_kept[3] + 1}, horizon) == 3
    assert forgettable(value, {4: 10**15}, horizon) is None, "its partition not read yet"
    assert forgettable("7", {3: 10**15}, horizon) is None, "an old value is kept"
    late = Use("u", "ZZ", "ai.training", Decimal(1), "k", "m", 10 * DAY_MS, just_kept[3] + 1)
    (judged,) = judge([], [late], TAXONOMY, now_ms=0, horizon_ms=horizon)
    assert judged.judgement is Judgement.TOO_LATE, "reported again, it counts nowhere"

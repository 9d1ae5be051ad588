"""Uses judged against the consent in force when they happened (issue 25):
``consentry_domain.audit``. The log's records carry the moment Kafka accepted them."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from consentry_domain import load_taxonomy
from consentry_domain.audit import Accepted, Judgement, Use, judge, timeline, violations
from consentry_events import AnyEvent, Choice, Scope
from tests.support.events import decision_event, track_event

TAXONOMY = load_taxonomy()
DAY = 86_400_000
NOW = 40 * DAY
HORIZON = 35 * DAY
ISRC = "GBAYE2600001"


def at(event: AnyEvent, offset: int, day: float) -> Accepted:
    return Accepted(event, offset, int(day * DAY))


def use(n: int, day: float, isrc: str = ISRC, purpose: str = "ai.training") -> Use:
    return Use(f"u{n}", isrc, purpose, Decimal(1), "training_inclusion", "m1", int(day * DAY))


LOG = [
    at(track_event(ISRC, "5012345678900", ["artist:a", "label:x"]), 0, 1),
    at(decision_event("artist:a", "ai.training", Choice.DENY, Scope.PARTY), 0, 15),
]


def test_a_use_before_the_opt_out_stays_allowed_even_reported_late() -> None:
    judged = judge(LOG, [use(1, 10), use(2, 20)], TAXONOMY, now_ms=NOW, horizon_ms=HORIZON)
    assert [(j.use.use_id, j.judgement) for j in judged] == [
        ("u1", Judgement.ALLOWED),
        ("u2", Judgement.VIOLATION),
    ]
    denied = violations(judged)[0]
    assert denied.answer is not None
    assert denied.answer.reasons[0].party == "artist:a"


def test_a_window_recorded_early_counts_from_its_start() -> None:
    ahead = decision_event(
        "label:x", "ai.training", Choice.DENY, Scope.PARTY, start=25 * DAY, end=30 * DAY
    )
    log = [LOG[0], at(ahead, 1, 2)]
    judged = judge(
        log, [use(1, 24), use(2, 26), use(3, 31)], TAXONOMY, now_ms=NOW, horizon_ms=HORIZON
    )
    assert [j.judgement for j in judged] == [
        Judgement.ALLOWED,
        Judgement.VIOLATION,
        Judgement.ALLOWED,
    ]


def test_a_use_of_a_track_not_yet_delivered_is_a_violation() -> None:
    log = [at(track_event(ISRC, "5012345678900", ["artist:a"]), 0, 12)]
    judged = judge(log, [use(1, 10), use(2, 13)], TAXONOMY, now_ms=NOW, horizon_ms=HORIZON)
    assert [j.judgement for j in judged] == [Judgement.VIOLATION, Judgement.ALLOWED]


def test_a_use_older_than_the_horizon_is_refused_not_judged() -> None:
    judged = judge(LOG, [use(1, 4)], TAXONOMY, now_ms=NOW, horizon_ms=HORIZON)
    assert (judged[0].judgement, judged[0].answer) == (Judgement.TOO_LATE, None)


@given(st.lists(st.floats(5.5, 39.0), min_size=1, max_size=20), st.floats(5.5, 39.0))
def test_records_after_a_use_never_change_its_judgement(days: list[float], cut: float) -> None:
    """What was accepted after a use's moment cannot reach back to it."""
    uses = [use(n, day) for n, day in enumerate(days)]
    later = at(decision_event("label:x", "ai.training", Choice.DENY, Scope.PARTY), 1, cut)
    before = {
        j.use.use_id: j.judgement
        for j in judge(LOG, uses, TAXONOMY, now_ms=NOW, horizon_ms=HORIZON)
    }
    after = judge([*LOG, later], uses, TAXONOMY, now_ms=NOW, horizon_ms=HORIZON)
    for j in after:
        if j.use.happened_ms < later.at_ms:
            assert j.judgement == before[j.use.use_id], j.use


CHOICES = st.sampled_from([Choice.ALLOW, Choice.DENY, Choice.WITHDRAWN])
PARTIES = st.sampled_from(["artist:a", "label:x"])
PURPOSES = st.sampled_from(["ai", "ai.training", "ai.generation"])


@st.composite
def records(draw: st.DrawFn) -> Accepted:
    day = draw(st.integers(0, 38))
    if draw(st.booleans()):
        start = draw(st.none() | st.integers(0, 39).map(lambda d: d * DAY))
        after = 0 if start is None else start // DAY + 1
        end = draw(st.none() | st.integers(after, 40).map(lambda d: d * DAY))
        event: AnyEvent = decision_event(
            draw(PARTIES), draw(PURPOSES), draw(CHOICES), Scope.PARTY, start=start, end=end
        )
    else:
        parties = draw(st.lists(PARTIES, min_size=1, max_size=2, unique=True))
        event = track_event(ISRC, "5012345678900", parties)
    return at(event, draw(st.integers(0, 50)), day)


@given(
    st.lists(records(), max_size=12),
    st.lists(st.integers(0, 40 * 4), min_size=1, max_size=15),
    st.sampled_from(["ai.training", "ai.generation"]),
)
def test_a_timeline_answers_as_judging_each_use_does(
    log: list[Accepted], quarters: list[int], purpose: str
) -> None:
    """The meter's per-track timeline gives every use the judgement (and reasons, and
    holders) of replaying the log up to its moment, windows included."""
    uses = [use(n, q / 4, purpose=purpose) for n, q in enumerate(quarters)]
    line = timeline(log, ISRC, purpose, TAXONOMY)
    judged_all = judge(log, uses, TAXONOMY, now_ms=NOW, horizon_ms=NOW)
    # Asked in any order: later moments first, then earlier ones again.
    for judged in [*reversed(judged_all), *judged_all]:
        answer, parties = line.at(judged.use.happened_ms)
        assert judged.answer == answer, judged.use
        assert judged.use.parties == parties

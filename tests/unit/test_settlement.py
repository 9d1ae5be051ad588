"""A month settled from the logs (consentry_domain.settlement): the README's worked
example, from events as they would be on the topics, and the same logs giving the same
bytes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from consentry_domain import load_taxonomy
from consentry_domain.audit import Accepted
from consentry_domain.revenue import Pool
from consentry_domain.settlement import Bearing, PoolTerms, Reported, month_bounds, settle_month
from consentry_domain.statements import for_party, to_csv, to_json
from consentry_events import AnyEvent, Choice, Scope, TrackChanged, encode
from consentry_events.usage import Attribution, AttributionReported, UsageReported, Use
from tests.support.events import decision_event, track_event

TAXONOMY = load_taxonomy()
HORIZON = 35 * 86_400_000
TRAINER = "service:trainer"
TRACKS = {
    "GBAYE2600001": ["artist:a", "label:x"],
    "GBAYE2600002": ["artist:b", "label:x"],
    "GBAYE2600003": ["artist:c", "label:y"],
}
T1, T2, T3 = TRACKS


def ms(day: int, month: int = 11) -> int:
    return int(datetime(2026, month, day, 12, tzinfo=UTC).timestamp() * 1000)


def at(event: AnyEvent, offset: int, moment: int) -> Accepted:
    return Accepted(event, offset, moment)


def uses(report: str, day: int, purpose: str, kind: str, isrcs: list[str]) -> Reported:
    when = datetime.fromtimestamp(ms(day) / 1000, UTC)
    event = UsageReported(
        report_id=report,
        reporter=TRAINER,
        uses=tuple(
            Use(
                use_id=f"{report}-{isrc}",
                isrc=isrc,
                purpose=purpose,
                units=Decimal(1),
                unit_kind=kind,
                model="model-1",
                model_version="1",
                happened_at=when,
            )
            for isrc in isrcs
        ),
        recorded_at=when,
    )
    return Reported(event, ms(day))


LOG = [
    *(
        at(track_event(isrc, "5012345678900", parties), n, ms(1, 10))
        for n, (isrc, parties) in enumerate(TRACKS.items())
    ),
    at(decision_event("artist:c", "ai", Choice.DENY, Scope.PARTY), 0, ms(15)),
]
SHARES = {T1: "0.5", T2: "0.3", T3: "0.2"}
USAGE = [
    uses("train-5", 5, "ai.training", "training_inclusion", [T1, T2]),
    uses("train-20", 20, "ai.training", "training_inclusion", [T3]),
    uses("gen-25", 25, "ai.generation", "generation", [T1, T2, T3]),
    Reported(
        AttributionReported(
            report_id="attr-song-1",
            reporter=TRAINER,
            output_id="song-1",
            purpose="ai.generation",
            period="2026-11",
            shares=tuple(
                Attribution(isrc=isrc, side=side, share=Decimal(share))
                for isrc, share in SHARES.items()
                for side in ("master", "composition")
            ),
            recorded_at=datetime(2026, 11, 30, tzinfo=UTC),
        ),
        ms(30),
    ),
]
POOLS = [
    PoolTerms(Pool("training", Decimal("1000.00"), "EUR", "equal"), "ai.training"),
    PoolTerms(Pool("outputs", Decimal("1000.00"), "EUR", "attribution"), "ai.generation"),
]


def test_the_worked_example_settles_as_the_readme_says() -> None:
    training, outputs = settle_month("2026-11", LOG, USAGE, POOLS, TAXONOMY, HORIZON)
    assert training.payouts == {
        "artist:a": Decimal("250.00"),
        "artist:b": Decimal("250.00"),
        "label:x": Decimal("500.00"),
    }
    assert outputs.payouts == {
        "artist:a": Decimal("312.50"),
        "artist:b": Decimal("187.50"),
        "label:x": Decimal("500.00"),
    }
    # artist:c opted out on the 15th: T3's uses after it are violations, earning nothing.
    assert [v.use_id for v in training.violations] == [f"{TRAINER}|train-20-{T3}"]
    assert [v.use_id for v in outputs.violations] == [f"{TRAINER}|gen-25-{T3}"]


def test_each_holder_reads_its_own_payout_lines_and_the_violations_of_its_tracks() -> None:
    training, _ = settle_month("2026-11", LOG, USAGE, POOLS, TAXONOMY, HORIZON)
    mine = for_party(training, "label:x")
    assert mine.payouts == {"label:x": Decimal("500.00")}
    assert {line.isrc for line in mine.lines} == {T1, T2}
    assert {line.party for line in mine.lines} == {"label:x"}
    assert mine.violations == ()
    theirs = for_party(training, "artist:c")
    assert theirs.payouts == {}
    assert theirs.lines == ()
    assert [v.use_id for v in theirs.violations] == [f"{TRAINER}|train-20-{T3}"]
    assert "artist:a" not in to_json(mine) + to_csv(mine), "nobody else's lines or payout"


def test_a_late_report_of_a_use_before_the_opt_out_is_allowed_and_earns() -> None:
    late = uses("train-10", 10, "ai.training", "training_inclusion", [T3])
    late = Reported(late.event, ms(2, 12))  # reported on 2 December
    training, _ = settle_month("2026-11", LOG, [*USAGE, late], POOLS, TAXONOMY, HORIZON)
    assert training.payouts["artist:c"] == Decimal("166.67")
    assert sum(training.payouts.values()) == Decimal("1000.00")


def test_the_same_logs_give_the_same_bytes_and_a_repeated_use_id_counts_once() -> None:
    first = settle_month("2026-11", LOG, USAGE, POOLS, TAXONOMY, HORIZON)
    again = settle_month("2026-11", LOG, [*USAGE, USAGE[0]], POOLS, TAXONOMY, HORIZON)
    assert [to_json(s) for s in first] == [to_json(s) for s in again]
    assert [to_csv(s) for s in first] == [to_csv(s) for s in again]


def test_months_are_utc_calendar_months() -> None:
    start, end = month_bounds("2026-12")
    assert datetime.fromtimestamp(start / 1000, UTC) == datetime(2026, 12, 1, tzinfo=UTC)
    assert datetime.fromtimestamp(end / 1000, UTC) == datetime(2027, 1, 1, tzinfo=UTC)


def test_a_settlement_needs_only_the_records_that_bear_on_the_used_tracks() -> None:
    """What ``consentry-admin statement`` decodes: the used tracks' catalogue records and
    their holders' records, and the statements are the same bytes as from the whole log."""
    other = "GBAYE2600009"
    noise = [
        at(track_event(other, "5012345678911", ["artist:z", "label:w"]), 9, ms(2)),
        at(decision_event("label:w", "ai", Choice.DENY, Scope.PARTY), 9, ms(3)),
        at(decision_event("label:x", "ai.dj", Choice.DENY, Scope.PARTY), 8, ms(4)),
    ]
    whole = [*LOG, *noise]
    bearing = Bearing(USAGE)
    tracks = [r for r in whole if isinstance(r.event, TrackChanged)]
    kept = [r for r in tracks if bearing.track(encode(r.event))]
    kept += [r for r in whole if r not in tracks and bearing.party(encode(r.event))]
    assert other not in {getattr(r.event, "isrc", None) for r in kept}
    assert "label:w" not in {getattr(r.event, "party", None) for r in kept}
    assert any(getattr(r.event, "party", None) == "label:x" for r in kept), "a holder's record"
    assert not bearing.track(b"not json")
    assert not bearing.party(b"[1]")
    assert not bearing.party(b'{"party": ["label:x"]}'), "a hostile record bears on nothing"
    assert not bearing.track(b'{"isrc": {"a": 1}}')
    full = settle_month("2026-11", whole, USAGE, POOLS, TAXONOMY, HORIZON)
    some = settle_month("2026-11", kept, USAGE, POOLS, TAXONOMY, HORIZON)
    assert [to_json(s) for s in some] == [to_json(s) for s in full]

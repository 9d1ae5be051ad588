"""Revenue statements (issue 25): the split rules of ``consentry_domain.revenue``, with
the properties the issue names -- payouts sum exactly to the pool, a holder's payout
never falls when only its own allowed usage (or attribution share) grows, a denied use
earns no one anything, the same log gives the same bytes, and a period split in two sums
to the whole (pro rata) up to the stated rounding."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentry_domain.revenue import (
    Attributed,
    Holding,
    JudgedUse,
    Pool,
    RevenueError,
    check_attribution,
    largest_remainder,
    settle,
)
from consentry_domain.statements import to_csv, to_json

EUR = "EUR"
PARTIES = ["artist:a", "artist:b", "artist:c", "label:x", "label:y"]


def pool(model: str, amount: str = "1000.00", **more: object) -> Pool:
    return Pool("p", Decimal(amount), EUR, model, **more)  # type: ignore[arg-type]


def use(n: int, isrc: str, units: int = 1, allowed: bool = True) -> JudgedUse:
    return JudgedUse(f"u{n}", isrc, Decimal(units), allowed)


HOLDINGS = {
    "T1": Holding("T1", ("artist:a", "label:x")),
    "T2": Holding("T2", ("artist:b", "label:x")),
    "T3": Holding("T3", ("artist:c", "label:y")),
}


def test_the_worked_example_of_the_readme() -> None:
    """Three tracks, two holders each; artist:c opted out mid-month and T3 was used after
    it: a violation, listed apart, earning nothing."""
    uses = [use(1, "T1"), use(2, "T2"), use(3, "T3", allowed=False)]
    training = settle(pool("equal"), "2026-11", HOLDINGS, uses)
    assert training.payouts == {
        "artist:a": Decimal("250.00"),
        "artist:b": Decimal("250.00"),
        "label:x": Decimal("500.00"),
    }
    assert [v.use_id for v in training.violations] == ["u3"]
    outputs = [
        Attributed("o1", isrc, side, Decimal(share))
        for isrc, share in (("T1", "0.5"), ("T2", "0.3"), ("T3", "0.2"))
        for side in ("master", "composition")
    ]
    attributed = settle(pool("attribution"), "2026-11", HOLDINGS, uses, outputs)
    assert attributed.payouts == {
        "artist:a": Decimal("312.50"),
        "artist:b": Decimal("187.50"),
        "label:x": Decimal("500.00"),
    }


def test_shares_and_sides_are_honoured() -> None:
    held = {
        "T1": Holding(
            "T1",
            ("artist:a", "label:x"),
            {("label:x", "master"): 7_000, ("artist:a", "master"): 3_000},
        )
    }
    statement = settle(
        pool("equal", sides={"master": 3, "composition": 1}), "m", held, [use(1, "T1")]
    )
    # master 750: x 525, a 225; composition 250 split equally: 125 each
    assert statement.payouts == {"label:x": Decimal("650.00"), "artist:a": Decimal("350.00")}


def test_a_track_disclosed_as_ai_is_excluded_where_the_pool_says() -> None:
    held = {**HOLDINGS, "T2": Holding("T2", ("artist:b", "label:x"), disclosure="all")}
    statement = settle(
        pool("equal", exclude_ai=frozenset({"all"})), "m", held, [use(1, "T1"), use(2, "T2")]
    )
    assert statement.excluded == ("T2",)
    assert statement.payouts == {"artist:a": Decimal("500.00"), "label:x": Decimal("500.00")}


def test_nothing_eligible_leaves_the_pool_undistributed() -> None:
    statement = settle(pool("pro_rata"), "m", HOLDINGS, [use(1, "T3", allowed=False)])
    assert statement.payouts == {}
    assert statement.undistributed == Decimal("1000.00")


def test_attribution_that_does_not_sum_is_refused_with_the_reason() -> None:
    report = [
        Attributed("o1", "T1", "master", Decimal("0.6")),
        Attributed("o1", "T2", "master", Decimal("0.3")),
    ]
    with pytest.raises(RevenueError, match=r"o1: the master shares sum to 0\.9, not 1"):
        check_attribution(report)
    check_attribution([*report, Attributed("o1", "T3", "master", Decimal("0.09995"))])


def test_a_side_without_attribution_falls_back_to_equal_over_the_eligible() -> None:
    outputs = [Attributed("o1", "T1", "master", Decimal(1))]
    statement = settle(pool("attribution"), "m", HOLDINGS, [use(1, "T1"), use(2, "T2")], outputs)
    # master 500 all to T1; composition 500 equally between T1 and T2
    assert statement.payouts == {
        "artist:a": Decimal("375.00"),
        "label:x": Decimal("500.00"),
        "artist:b": Decimal("125.00"),
    }


def test_ties_go_to_the_holder_first_in_order() -> None:
    exact = dict.fromkeys(["c", "a", "b"], Fraction(1, 3))
    assert largest_remainder(exact, Decimal("1.00"), Decimal("0.01")) == {
        "a": Decimal("0.34"),
        "b": Decimal("0.33"),
        "c": Decimal("0.33"),
    }


catalogues = st.lists(
    st.tuples(
        st.lists(st.sampled_from(PARTIES), min_size=1, max_size=3, unique=True),
        st.sampled_from([None, "none", "partly", "all"]),
    ),
    min_size=1,
    max_size=6,
)
usage = st.lists(
    st.tuples(st.integers(0, 5), st.integers(1, 10_000), st.booleans()), min_size=1, max_size=25
)
amounts = st.integers(0, 10**9).map(lambda cents: Decimal(cents).scaleb(-2))
models = st.sampled_from(["equal", "pro_rata", "attribution"])


def _held(drawn: list[tuple[list[str], str | None]]) -> dict[str, Holding]:
    return {f"T{i}": Holding(f"T{i}", tuple(p), disclosure=d) for i, (p, d) in enumerate(drawn)}


def _uses(drawn: list[tuple[int, int, bool]], tracks: int) -> list[JudgedUse]:
    return [
        JudgedUse(f"u{n}", f"T{t % tracks}", Decimal(units), ok)
        for n, (t, units, ok) in enumerate(drawn)
    ]


def _attribution(uses: list[JudgedUse]) -> list[Attributed]:
    isrcs = sorted({u.isrc for u in uses})
    weights = [Decimal(n + 1) for n in range(len(isrcs))]
    total = sum(weights)
    return [
        Attributed("o1", isrc, side, w / total)
        for isrc, w in zip(isrcs, weights, strict=True)
        for side in ("master", "composition")
    ]


@given(catalogues, usage, amounts, models)
def test_payouts_always_sum_exactly_to_the_pool(
    drawn: list[tuple[list[str], str | None]],
    used: list[tuple[int, int, bool]],
    amount: Decimal,
    model: str,
) -> None:
    held, uses = _held(drawn), _uses(used, len(drawn))
    statement = settle(
        pool(model, str(amount), exclude_ai=frozenset({"all"})),
        "m",
        held,
        uses,
        _attribution(uses),
    )
    assert sum(statement.payouts.values(), Decimal(0)) + statement.undistributed == amount
    assert all(p >= 0 for p in statement.payouts.values())


@given(catalogues, usage, amounts, models, st.integers(0, 5), st.integers(1, 10_000))
def test_a_denied_use_never_earns_anyone_anything(
    drawn: list[tuple[list[str], str | None]],
    used: list[tuple[int, int, bool]],
    amount: Decimal,
    model: str,
    track: int,
    units: int,
) -> None:
    held, uses = _held(drawn), _uses(used, len(drawn))
    before = settle(pool(model, str(amount)), "m", held, uses, _attribution(uses))
    denied = JudgedUse("denied", f"T{track % len(drawn)}", Decimal(units), allowed=False)
    after = settle(pool(model, str(amount)), "m", held, [*uses, denied], _attribution(uses))
    assert after.payouts == before.payouts
    assert denied in after.violations


def _with_a_sole_holder(
    used: list[tuple[int, int, bool]],
) -> tuple[dict[str, Holding], list[JudgedUse]]:
    """``artist:solo`` alone holds T9 (one allowed use); others share T0 and T1."""
    held = {
        **_held([(["artist:a", "label:x"], None), (["artist:b"], None)]),
        "T9": Holding("T9", ("artist:solo",)),
    }
    return held, [*_uses(used, 2), JudgedUse("solo", "T9", Decimal(1), True)]


@given(usage, amounts, st.integers(1, 10_000))
def test_more_of_ones_own_allowed_usage_never_pays_less_pro_rata(
    used: list[tuple[int, int, bool]], amount: Decimal, more: int
) -> None:
    held, uses = _with_a_sole_holder(used)
    before = settle(pool("pro_rata", str(amount)), "m", held, uses)
    grown = [*uses, JudgedUse("solo-more", "T9", Decimal(more), True)]
    after = settle(pool("pro_rata", str(amount)), "m", held, grown)
    assert after.payouts["artist:solo"] >= before.payouts["artist:solo"]


@given(usage, amounts, st.integers(1, 50))
def test_a_larger_attribution_share_never_pays_less(
    used: list[tuple[int, int, bool]], amount: Decimal, boost: int
) -> None:
    held, uses = _with_a_sole_holder(used)
    base = _attribution(uses)

    def reweighted(factor: int) -> list[Attributed]:
        raw = {(a.isrc, a.side): a.share * (factor if a.isrc == "T9" else 1) for a in base}
        sums = {
            side: sum(v for (_, s), v in raw.items() if s == side)
            for side in ("master", "composition")
        }
        return [Attributed("o1", i, s, v / sums[s]) for (i, s), v in raw.items()]

    before = settle(pool("attribution", str(amount)), "m", held, uses, reweighted(1))
    after = settle(pool("attribution", str(amount)), "m", held, uses, reweighted(1 + boost))
    assert after.payouts["artist:solo"] >= before.payouts["artist:solo"]


@given(catalogues, usage, amounts, models, st.randoms(use_true_random=False))
def test_the_same_log_gives_the_same_bytes(
    drawn: list[tuple[list[str], str | None]],
    used: list[tuple[int, int, bool]],
    amount: Decimal,
    model: str,
    shuffler: random.Random,
) -> None:
    held, uses = _held(drawn), _uses(used, len(drawn))
    attribution = _attribution(uses)
    first = settle(pool(model, str(amount)), "m", held, uses, attribution)
    shuffled = list(uses)
    shuffler.shuffle(shuffled)
    again = settle(pool(model, str(amount)), "m", held, shuffled, attribution)
    assert (to_json(again), to_csv(again)) == (to_json(first), to_csv(first))


@given(catalogues, usage, usage)
def test_a_period_split_in_two_sums_to_the_whole_pro_rata(
    drawn: list[tuple[list[str], str | None]],
    first_half: list[tuple[int, int, bool]],
    second_half: list[tuple[int, int, bool]],
) -> None:
    """A pool of 0.01 EUR per allowed unit: each half's pool is its own units' worth, so
    the exact amounts add up; each rounding moves a holder by less than a cent, so the
    halves' sum is within 2 cents of the whole for each holder, and equal in total."""
    held = _held(drawn)
    a, b = _uses(first_half, len(drawn)), _uses(second_half, len(drawn))
    b = [JudgedUse(f"b{u.use_id}", u.isrc, u.units, u.allowed) for u in b]

    def worth(uses: list[JudgedUse]) -> str:
        return str(Decimal(sum(int(u.units) for u in uses if u.allowed)).scaleb(-2))

    whole = settle(pool("pro_rata", worth([*a, *b])), "m", held, [*a, *b])
    halves = [settle(pool("pro_rata", worth(h)), "m", held, h) for h in (a, b)]
    parties = set(whole.payouts) | {p for h in halves for p in h.payouts}
    for party in parties:
        summed = sum((h.payouts.get(party, Decimal(0)) for h in halves), Decimal(0))
        assert abs(summed - whole.payouts.get(party, Decimal(0))) <= Decimal("0.02"), party
    assert sum((sum(h.payouts.values(), Decimal(0)) for h in halves), Decimal(0)) == sum(
        whole.payouts.values(), Decimal(0)
    )


def test_a_pool_not_in_the_currency_unit_is_refused() -> None:
    with pytest.raises(RevenueError, match="smallest unit"):
        pool("equal", "10.005")

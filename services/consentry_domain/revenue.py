"""Revenue statements, pure: a pool of AI revenue split among the rights holders whose
works were used with their consent, exactly to the smallest currency unit.

How a pool is split (every step configurable by the pool, none hard-coded):

1. **Eligible uses.** Only uses judged *allowed* at the moment they happened count; the
   others are violations, listed apart, and never earn. A track whose AI disclosure is
   in the pool's ``exclude_ai`` (e.g. ``{"all"}``: entirely AI-generated) earns nothing
   from it and is listed as excluded.
2. **Sides.** The pool is first split between the ``master`` and the ``composition``
   side in the pool's ratio (STIM computes the two separately).
3. **Works.** Each side's amount is split among the eligible tracks by the pool's model:

   * ``equal`` -- equally per work included (a training licence: every opted-in work
     used in the period, whatever its units);
   * ``pro_rata`` -- by the allowed units metered;
   * ``attribution`` -- by the attribution shares AI services reported for that side
     (per generated output); a side with no attribution at all falls back to ``equal``
     over the eligible tracks (STIM's fallback to the training distribution).
4. **Holders.** A track's amount on a side goes to its holders by their shares in basis
   points; a side without shares is split equally among the track's parties.
5. **Rounding, once.** Every amount above is an exact fraction; each holder's total is
   rounded to the currency's smallest unit by largest remainder: everyone gets the
   floor, and the units left go one each to the largest remainders (ties: the holder id
   in ascending order). Payouts sum to the pool exactly, and a holder whose own exact
   amount grows never gets less (the floor cannot fall and no one can pass it without
   the count of units left growing with them).

The statement's lines are the exact amounts before rounding, per holder, track and side,
with the uses each counts (``statements`` renders them to JSON and CSV).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Literal

Side = Literal["master", "composition"]
SIDES: tuple[Side, ...] = ("master", "composition")
Model = Literal["equal", "pro_rata", "attribution"]
BASIS_POINTS = 10_000


class RevenueError(ValueError):
    """A pool or a report that cannot be settled as given, with the reason."""


@dataclass(frozen=True, slots=True)
class Pool:
    """An amount of AI revenue to split, and how."""

    name: str
    amount: Decimal
    currency: str
    model: Model
    sides: Mapping[Side, int] = field(default_factory=lambda: {"master": 1, "composition": 1})
    """The ratio between the sides (``{"master": 1, "composition": 1}``: half each)."""
    exclude_ai: frozenset[str] = frozenset()
    """Disclosures (``all``, ``partly``, ``none``) whose tracks earn nothing from it."""
    minor_units: int = 2
    """Decimal places of the currency's smallest unit (EUR: 2, JPY: 0)."""

    def __post_init__(self) -> None:
        if self.amount < 0 or self.amount != self.amount.quantize(self.unit):
            raise RevenueError(
                f"pool {self.name}: {self.amount} is not a non-negative amount in "
                f"{self.currency}'s smallest unit ({self.unit})"
            )
        if any(w < 0 for w in self.sides.values()) or sum(self.sides.values()) <= 0:
            raise RevenueError(f"pool {self.name}: the sides' ratio must be positive")
        if set(self.sides) - set(SIDES):
            raise RevenueError(f"pool {self.name}: sides are master and composition")

    @property
    def unit(self) -> Decimal:
        return Decimal(1).scaleb(-self.minor_units)


@dataclass(frozen=True, slots=True)
class Holding:
    """A track as the catalogue held it during the period."""

    isrc: str
    parties: tuple[str, ...]
    shares: Mapping[tuple[str, Side], int] = field(default_factory=dict)
    """(party, side) -> basis points; a side absent is split equally among ``parties``."""
    disclosure: str | None = None

    def holders(self, side: Side) -> dict[str, Fraction]:
        given = {party: bp for (party, s), bp in self.shares.items() if s == side}
        if given:
            return {party: Fraction(bp, BASIS_POINTS) for party, bp in given.items()}
        return {party: Fraction(1, len(self.parties)) for party in self.parties}


@dataclass(frozen=True, slots=True)
class JudgedUse:
    """A use, judged against the consent in force when it happened."""

    use_id: str
    isrc: str
    units: Decimal
    allowed: bool


@dataclass(frozen=True, slots=True)
class Attributed:
    """One training work's share of a generated output, on one side."""

    output_id: str
    isrc: str
    side: Side
    share: Decimal


ATTRIBUTION_TOLERANCE = Decimal("0.0001")
"""How far an output's shares on a side may be from summing to 1 (rounding in the
reporting service); further is refused."""


def check_attribution(report: Sequence[Attributed]) -> None:
    """Each output's shares on each side sum to 1 within ``ATTRIBUTION_TOLERANCE``;
    every share is between 0 and 1. Else ``RevenueError`` with the reason."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for item in report:
        if not 0 <= item.share <= 1:
            raise RevenueError(f"output {item.output_id}: {item.isrc}'s share {item.share}")
        sums[item.output_id, item.side] += item.share
    for (output, side), total in sorted(sums.items()):
        if abs(total - 1) > ATTRIBUTION_TOLERANCE:
            raise RevenueError(
                f"output {output}: the {side} shares sum to {total}, not 1 "
                f"(within {ATTRIBUTION_TOLERANCE})"
            )


@dataclass(frozen=True, slots=True)
class Line:
    """One holder's exact share of one track on one side, and the uses behind it."""

    party: str
    isrc: str
    side: Side
    amount: Fraction
    uses: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Statement:
    pool: Pool
    period: str
    payouts: Mapping[str, Decimal]
    """Each holder's payout, rounded; they sum to the pool (or to nothing: see
    ``undistributed``)."""
    lines: tuple[Line, ...]
    violations: tuple[JudgedUse, ...]
    excluded: tuple[str, ...]
    """Tracks that earned nothing because of their AI disclosure."""
    undistributed: Decimal
    """The pool when no use was eligible (nothing to split it by), else zero."""
    holders: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """The holders of each track the statement names (whose violations each party sees)."""


def settle(
    pool: Pool,
    period: str,
    holdings: Mapping[str, Holding],
    uses: Iterable[JudgedUse],
    attributions: Sequence[Attributed] = (),
) -> Statement:
    """The pool's statement for the period (see the module's rules)."""
    allowed: dict[str, list[JudgedUse]] = defaultdict(list)
    violations: list[JudgedUse] = []
    excluded: set[str] = set()
    for use in sorted(uses, key=lambda u: (u.isrc, u.use_id)):
        if not use.allowed:
            violations.append(use)
        elif use.isrc not in holdings:
            raise RevenueError(f"use {use.use_id}: {use.isrc} is not in the catalogue")
        elif holdings[use.isrc].disclosure in pool.exclude_ai:
            excluded.add(use.isrc)
        else:
            allowed[use.isrc].append(use)
    check_attribution(attributions)
    exact: dict[tuple[str, str, Side], Fraction] = {}
    ratio_total = sum(pool.sides.values())
    for side in SIDES:
        side_amount = Fraction(pool.amount) * Fraction(pool.sides.get(side, 0), ratio_total)
        weights = _weights(pool.model, side, allowed, attributions)
        total = sum(weights.values(), Fraction(0))
        if total == 0:
            continue
        per_weight = side_amount / total
        for isrc, weight in weights.items():
            of_track = per_weight * weight
            for party, part in holdings[isrc].holders(side).items():
                exact[party, isrc, side] = of_track * part  # one line per holder and side
    if not exact:
        payouts: dict[str, Decimal] = {}
        undistributed = pool.amount
    else:
        per_party: dict[str, Fraction] = defaultdict(Fraction)
        for (party, _, _), amount in exact.items():
            per_party[party] += amount
        payouts = largest_remainder(per_party, pool.amount, pool.unit)
        undistributed = Decimal(0).quantize(pool.unit)
    lines = tuple(
        Line(party, isrc, side, amount, tuple(u.use_id for u in allowed[isrc]))
        for (party, isrc, side), amount in sorted(exact.items())
    )
    named = {line.isrc for line in lines} | {u.isrc for u in violations} | excluded
    return Statement(
        pool,
        period,
        payouts,
        lines,
        tuple(violations),
        tuple(sorted(excluded)),
        undistributed,
        {isrc: holdings[isrc].parties for isrc in sorted(named) if isrc in holdings},
    )


def _weights(
    model: Model,
    side: Side,
    allowed: Mapping[str, Sequence[JudgedUse]],
    attributions: Sequence[Attributed],
) -> dict[str, Fraction]:
    if model == "pro_rata":
        return {
            isrc: Fraction(sum((u.units for u in used), Decimal(0)))
            for isrc, used in allowed.items()
        }
    if model == "attribution":
        attributed: dict[str, Fraction] = defaultdict(Fraction)
        for item in attributions:
            if item.side == side and item.isrc in allowed:
                attributed[item.isrc] += Fraction(item.share)
        if any(attributed.values()):
            return dict(attributed)
    return dict.fromkeys(allowed, Fraction(1))


def largest_remainder(
    exact: Mapping[str, Fraction], amount: Decimal, unit: Decimal
) -> dict[str, Decimal]:
    """``exact`` (summing to ``amount``) rounded to ``unit``: the floors, then one unit
    each to the largest remainders, ties by key ascending. Sums to ``amount`` exactly."""
    step = Fraction(unit)
    total_units = int(Fraction(amount) / step)
    floors = {key: int(value / step) for key, value in exact.items()}
    left = total_units - sum(floors.values())
    if not 0 <= left <= len(exact):
        raise RevenueError(f"the exact amounts do not sum to {amount}")
    order = sorted(exact, key=lambda key: (-(exact[key] / step - floors[key]), key))
    for key in order[:left]:
        floors[key] += 1
    return {key: (Decimal(units) * unit).quantize(unit) for key, units in floors.items()}

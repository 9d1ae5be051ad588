"""A revenue statement as people and programs read it: JSON and CSV, in a fixed order
and format, so recomputing a period from the same log gives byte-identical files."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

from consentry_domain.revenue import Statement


def for_party(statement: Statement, party: str) -> Statement:
    """What one rights holder may read of a statement: the pool, its own payout and
    lines, and the violations and exclusions of the tracks it holds -- nobody else's
    payout or lines."""

    def holds(isrc: str) -> bool:
        return party in statement.holders.get(isrc, ())

    return replace(
        statement,
        payouts={p: a for p, a in statement.payouts.items() if p == party},
        lines=tuple(line for line in statement.lines if line.party == party),
        violations=tuple(u for u in statement.violations if holds(u.isrc)),
        excluded=tuple(isrc for isrc in statement.excluded if holds(isrc)),
        holders={isrc: held for isrc, held in statement.holders.items() if party in held},
    )


def to_json(statement: Statement) -> str:
    """The statement as JSON: fixed key order and formats (the same statement, the same
    bytes)."""
    body = {
        "pool": statement.pool.name,
        "period": statement.period,
        "model": statement.pool.model,
        "amount": str(statement.pool.amount),
        "currency": statement.pool.currency,
        "payouts": {party: str(amount) for party, amount in sorted(statement.payouts.items())},
        "undistributed": str(statement.undistributed),
        "lines": [
            {
                "party": line.party,
                "isrc": line.isrc,
                "side": line.side,
                "exact": _exact(line.amount),
                "uses": list(line.uses),
            }
            for line in statement.lines
        ],
        "violations": [
            {"use_id": u.use_id, "isrc": u.isrc, "units": str(u.units)}
            for u in statement.violations
        ],
        "excluded": list(statement.excluded),
    }
    return json.dumps(body, indent=1, ensure_ascii=False) + "\n"


def to_csv(statement: Statement) -> str:
    """One row per line (exact amounts), then one total row per holder."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["party", "isrc", "side", "exact", "uses", "payout", "currency"])
    for line in statement.lines:
        writer.writerow(
            [line.party, line.isrc, line.side, _exact(line.amount), len(line.uses), "", ""]
        )
    for party, amount in sorted(statement.payouts.items()):
        writer.writerow([party, "", "total", "", "", str(amount), statement.pool.currency])
    return out.getvalue()


def _exact(amount: Fraction) -> str:
    """An exact amount as a decimal with 10 places (its fraction where that is not
    exact, so nothing is silently rounded on a line)."""
    scaled = amount * 10**10
    if scaled.denominator == 1:
        return str(Decimal(scaled.numerator).scaleb(-10))
    return f"{amount.numerator}/{amount.denominator}"

"""A rights holder's AI usage, as the meter counted it:

* ``GET /v1/parties/{party}/usage``: units per period (month, or day), purpose, model and
  unit kind -- those used with its consent, and those used while it denied them;
* ``GET /v1/parties/{party}/violations``: each use of its tracks at a moment its consent
  (or a co-holder's) denied the purpose;
* ``GET /v1/parties/{party}/statements`` and ``.../statements/{period}/{pool}``: its own
  view of each revenue statement published for it (its payout and lines, the violations
  of its tracks; nobody else's), as JSON or CSV.

The party's own, its delegates' and admins'; nobody else's. Read from the meter's views
in the enforcer's store (``consentry_state.UsageViews``); what a report just sent counts
for appears once the meter has read it. Statements appear once settled and published
(``consentry-admin statement --publish``).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Literal

import orjson
from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from consentry_domain.audit import Judgement
from consentry_domain.metering import Counter
from consentry_domain.settlement import POOL_NAME
from consentry_events import UseViolated
from consentry_events.models import PartyId
from consentry_http import HttpProblem, responses
from consentry_writeapi.deps import Statements, Usage
from consentry_writeapi.routes.parties import Reader

router = APIRouter(tags=["usage"], responses=responses(401, 403, 422))


class UsageLine(BaseModel):
    period: str = Field(description="2026-11 (month) or 2026-11-05 (day), UTC.")
    purpose: str
    model: str
    unit_kind: str
    allowed: Decimal = Field(description="Units used while the consent allowed it.")
    violations: Decimal = Field(description="Units used while it was denied: they never earn.")


class UsageOut(BaseModel):
    party: str
    lines: list[UsageLine]


class ViolationsOut(BaseModel):
    party: str
    violations: list[UseViolated]


@router.get("/v1/parties/{party}/usage", response_model=UsageOut)
async def party_usage(
    party: PartyId,
    _: Reader,
    views: Usage,
    by: Literal["month", "day"] = Query(default="month", description="Period length."),
) -> UsageOut:
    """What AI features used of the party's tracks, per period, purpose and model."""
    want = "m:" if by == "month" else "d:"
    lines: dict[tuple[str, str, str, str], dict[str, Decimal]] = defaultdict(dict)
    for key, units in (await views.usage(party)).items():
        counter = Counter.parse(key)
        if counter.level != "p" or not counter.period.startswith(want):
            continue
        place = (counter.period[2:], counter.purpose, counter.model, counter.unit_kind)
        lines[place][counter.judgement] = units
    return UsageOut(
        party=party,
        lines=[
            UsageLine(
                period=period,
                purpose=purpose,
                model=model,
                unit_kind=kind,
                allowed=counts.get(Judgement.ALLOWED.value, Decimal(0)),
                violations=counts.get(Judgement.VIOLATION.value, Decimal(0)),
            )
            for (period, purpose, model, kind), counts in sorted(lines.items())
        ],
    )


@router.get("/v1/parties/{party}/violations", response_model=ViolationsOut)
async def party_violations(party: PartyId, _: Reader, views: Usage) -> ViolationsOut:
    """Every use of the party's tracks while their consent denied it."""
    found = [UseViolated.model_validate(orjson.loads(v)) for v in await views.violations(party)]
    found.sort(key=lambda v: (v.use.happened_at, v.reporter, v.use.use_id))
    return ViolationsOut(party=party, violations=found)


class StatementOut(BaseModel):
    period: str = Field(description="The month settled, 2026-11.")
    pool: str
    model: str
    pool_amount: Decimal = Field(description="The whole pool, shared among its holders.")
    currency: str
    payout: Decimal = Field(description="The party's payout from the pool.")
    violations: int = Field(description="Uses of the party's tracks in violation: no earnings.")


class StatementsOut(BaseModel):
    party: str
    statements: list[StatementOut]


@router.get("/v1/parties/{party}/statements", response_model=StatementsOut)
async def party_statements(party: PartyId, _: Reader, statements: Statements) -> StatementsOut:
    """The revenue statements published for the party, by period and pool."""
    found: list[StatementOut] = []
    for period, pool, text in await statements.published(party):
        body = orjson.loads(text)
        found.append(
            StatementOut(
                period=period,
                pool=pool,
                model=body["model"],
                pool_amount=Decimal(body["amount"]),
                currency=body["currency"],
                payout=Decimal(body["payouts"].get(party, "0")),
                violations=len(body["violations"]),
            )
        )
    return StatementsOut(party=party, statements=found)


MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8"}


@router.get(
    "/v1/parties/{party}/statements/{period}/{pool}",
    response_class=Response,
    responses={
        200: {
            "description": "The party's view of the statement: the pool, its payout, its "
            "lines (exact amounts, the uses each counts), the violations of its tracks.",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        },
        **responses(404),
    },
)
async def party_statement(
    party: PartyId,
    _: Reader,
    statements: Statements,
    period: str = Path(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="A month, 2026-11."),
    pool: str = Path(pattern=POOL_NAME.pattern, description="The pool's name."),
    form: Literal["json", "csv"] = Query(
        default="json", alias="format", description="JSON or CSV."
    ),
) -> Response:
    """The party's own view of one pool's statement for a month, byte for byte as
    settled (the same logs give the same bytes)."""
    found = await statements.statement(party, period, pool, form)
    if found is None:
        raise HttpProblem(
            "no_statement",
            f"no statement of pool {pool} for {period} was published for {party}",
            status_code=404,
        )
    disposition = f'attachment; filename="{period}-{pool}.{form}"'
    return Response(found, media_type=MEDIA[form], headers={"Content-Disposition": disposition})

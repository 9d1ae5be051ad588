"""A rights holder's AI usage, as the meter counted it:

* ``GET /v1/parties/{party}/usage``: units per period (month, or day), purpose, model and
  unit kind -- those used with its consent, and those used while it denied them;
* ``GET /v1/parties/{party}/violations``: each use of its tracks at a moment its consent
  (or a co-holder's) denied the purpose.

The party's own, its delegates' and admins'; nobody else's. Read from the meter's views
in the enforcer's store (``consentry_state.UsageViews``); what a report just sent counts
for appears once the meter has read it.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Literal

import orjson
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from consentry_domain.audit import Judgement
from consentry_domain.metering import Counter
from consentry_events import UseViolated
from consentry_events.models import PartyId
from consentry_http import responses
from consentry_writeapi.deps import Usage
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

"""``POST /v1/decisions``: a party records a consent decision."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body
from fastapi.responses import Response

from consentry_events import ConsentChanged
from consentry_http import Caller
from consentry_writeapi.authorise import may_decide, needs_grants
from consentry_writeapi.deps import (
    DelegationsOf,
    IdempotencyKey,
    KeyRecords,
    Parties,
    Taxonomy,
    attempt,
    grants,
    known_purpose,
)
from consentry_writeapi.routes.answers import WRITE_RESPONSES, written
from consentry_writeapi.schemas import Accepted, DecisionRequest

router = APIRouter(tags=["decisions"])


@router.post(
    "/v1/decisions", status_code=202, response_model=Accepted, responses=WRITE_RESPONSES
)
async def record_decision(
    body: Annotated[DecisionRequest, Body()],
    principal: Caller,
    taxonomy: Taxonomy,
    parties: Parties,
    delegations: DelegationsOf,
    records: KeyRecords,
    key: IdempotencyKey = None,
) -> Response:
    """Record a party's consent decision; 202 once Kafka acknowledged it (acks=all).

    A party decides for itself; a delegate for the purposes delegated to it; an admin
    for anyone, marked ``authority: admin`` in the log."""
    known_purpose(taxonomy, body.purpose)
    granted = await grants(delegations, body.party) if needs_grants(principal, body.party) else []
    authority = may_decide(principal, body.party, body.purpose, granted)

    def make(event_id: uuid.UUID, prev_hash: str | None) -> ConsentChanged:
        return ConsentChanged(
            decision_id=event_id,
            recorded_at=datetime.now(UTC),
            actor=principal.subject,
            authority=authority,
            prev_hash=prev_hash,
            **body.model_dump(),
        )

    handle = attempt(records, principal, key, "decisions", body)
    return written(await parties.append(body.party, make, handle))

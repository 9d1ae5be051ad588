"""``POST /v1/delegations``: a party lets another decide a purpose for it, or stops."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from consentry_events import DelegationChanged
from consentry_http import Caller, invalid_field
from consentry_http.inputs import body_rules, differs
from consentry_writeapi.authorise import may_delegate
from consentry_writeapi.decide import event_maker
from consentry_writeapi.deps import (
    IdempotencyKey,
    KeyRecords,
    Parties,
    Taxonomy,
    attempt,
    known_purpose,
)
from consentry_writeapi.schemas import Accepted, DelegationRequest
from consentry_writeapi.written import WRITE_RESPONSES, written

router = APIRouter(tags=["delegations"])


@router.post(
    "/v1/delegations",
    status_code=202,
    response_model=Accepted,
    responses=WRITE_RESPONSES,
    openapi_extra=body_rules(differs("delegate", "party")),
)
async def record_delegation(
    body: DelegationRequest,
    principal: Caller,
    taxonomy: Taxonomy,
    parties: Parties,
    records: KeyRecords,
    key: IdempotencyKey,
) -> Response:
    """Grant (or revoke) another party the right to decide a purpose for you."""
    known_purpose(taxonomy, body.purpose)
    if body.delegate == body.party:
        raise invalid_field(["body", "delegate"], "a party cannot delegate to itself")
    authority = may_delegate(principal, body.party)

    make = event_maker(DelegationChanged, "delegation_id", principal, authority, body.model_dump())
    handle = attempt(records, principal, key, "delegations", body)
    return written(await parties.append(body.party, make, handle))

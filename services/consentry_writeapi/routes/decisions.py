"""``POST /v1/decisions``: a party records a consent decision; ``POST
/v1/decisions/many``: the same decision for many releases or tracks at once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import Response

from consentry_auth import Principal
from consentry_domain import Taxonomy as TaxonomyRules
from consentry_events import Authority, ConsentChanged, ConsentChangedMany, Decision, Scope
from consentry_http import Caller
from consentry_state import Delegations
from consentry_writeapi.authorise import holds_every_track, may_decide, needs_grants
from consentry_writeapi.decision_requests import DecisionRequest, ManyDecisionsRequest
from consentry_writeapi.deps import (
    DelegationsOf,
    IdempotencyKey,
    KeyRecords,
    Parties,
    Services,
    Taxonomy,
    attempt,
    grants,
    known_purpose,
)
from consentry_writeapi.routes.answers import WRITE_RESPONSES, written
from consentry_writeapi.schemas import Accepted

router = APIRouter(tags=["decisions"])


async def authority_of(
    principal: Principal,
    party: str,
    purpose: str,
    taxonomy: TaxonomyRules,
    delegations: Delegations,
) -> Authority:
    """By what right ``principal`` decides ``purpose`` for ``party`` (422 for a purpose
    outside the taxonomy, 403 when it may not); delegations read only when they count."""
    known_purpose(taxonomy, purpose)
    granted = await grants(delegations, party) if needs_grants(principal, party) else []
    return may_decide(principal, party, purpose, granted)


def decision_maker(
    kind: type[Decision], principal: Principal, authority: Authority, fields: dict[str, Any]
) -> Callable[[uuid.UUID, str | None], Decision]:
    """The event the party's log chains: the request's fields, who and by what right."""

    def make(event_id: uuid.UUID, prev_hash: str | None) -> Decision:
        return kind(
            decision_id=event_id,
            recorded_at=datetime.now(UTC),
            actor=principal.subject,
            authority=authority,
            prev_hash=prev_hash,
            **fields,
        )

    return make


@router.post("/v1/decisions", status_code=202, response_model=Accepted, responses=WRITE_RESPONSES)
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
    authority = await authority_of(principal, body.party, body.purpose, taxonomy, delegations)
    make = decision_maker(ConsentChanged, principal, authority, body.model_dump())
    handle = attempt(records, principal, key, "decisions", body)
    return written(await parties.append(body.party, make, handle))


MANY_MAX_BYTES = 1024 * 1024
"""A decision on many works: 10,000 ISRCs are ~170 KB of JSON (the app's body limit for
this path; every other route keeps ``max_body_bytes``)."""


@router.post(
    "/v1/decisions/many", status_code=202, response_model=Accepted, responses=WRITE_RESPONSES
)
async def record_many(
    body: Annotated[ManyDecisionsRequest, Body()],
    principal: Caller,
    taxonomy: Taxonomy,
    parties: Parties,
    delegations: DelegationsOf,
    records: KeyRecords,
    services: Services,
    key: IdempotencyKey = None,
) -> Response:
    """Opt up to 10,000 releases or tracks out (or in) with one request.

    Recorded as one event: in the log whole or not at all, one consistency token that
    covers every work, one link of the party's hash chain. Checked as one decision for
    who may decide (the party, its delegate for the purpose, an admin) and, for tracks,
    work by work against the catalogue: a track that lists other rights holders only is
    refused (403, each named in ``errors``) and then nothing is written. Downstream
    systems get enforcement events for exactly the tracks whose answer changed."""
    authority = await authority_of(principal, body.party, body.purpose, taxonomy, delegations)
    if body.scope is Scope.TRACK:
        holds_every_track(body.party, body.works, await services.stored.tracks(body.works))
    make = decision_maker(ConsentChangedMany, principal, authority, body.model_dump())
    handle = attempt(records, principal, key, "decisions.many", body)
    return written(await parties.append(body.party, make, handle))

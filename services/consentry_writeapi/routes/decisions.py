"""``POST /v1/decisions``: a party records a consent decision (the operation is
``consentry_writeapi.decide``'s, shared with its fast path); ``POST /v1/decisions/many``:
the same decision for many releases or tracks at once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from consentry_events import ConsentChangedMany, Scope
from consentry_http import Caller
from consentry_http.inputs import KEY_DOC, Call, after, body_rules, documented
from consentry_writeapi import decide
from consentry_writeapi.authorise import holds_every_track
from consentry_writeapi.decide import DECISION, authority_of, decision_maker
from consentry_writeapi.decision_requests import ManyDecisionsRequest
from consentry_writeapi.deps import (
    Auth,
    DelegationsOf,
    IdempotencyKey,
    KeyRecords,
    Parties,
    Stored,
    Taxonomy,
    attempt,
)
from consentry_writeapi.schemas import Accepted
from consentry_writeapi.written import WRITE_RESPONSES, written

router = APIRouter(tags=["decisions"])
WINDOW = [after("expires_at", "effective_from")]


@router.post(
    "/v1/decisions",
    status_code=202,
    response_model=Accepted,
    responses=WRITE_RESPONSES,
    openapi_extra=documented(body=DECISION, headers=[KEY_DOC], rules=WINDOW),
)
async def record_decision(
    request: Request,
    auth: Auth,
    taxonomy: Taxonomy,
    parties: Parties,
    delegations: DelegationsOf,
    records: KeyRecords,
) -> Response:
    """Record a party's consent decision; 202 once Kafka acknowledged it (acks=all).

    A party decides for itself; a delegate for the purposes delegated to it; an admin
    for anyone, marked ``authority: admin`` in the log."""
    return await decide.record_decision(
        Call.of(request), auth, taxonomy, parties, delegations, records
    )


MANY_MAX_BYTES = 1024 * 1024
"""A decision on many works: 10,000 ISRCs are ~170 KB of JSON (the app's body limit for
this path; every other route keeps ``max_body_bytes``)."""


@router.post(
    "/v1/decisions/many",
    status_code=202,
    response_model=Accepted,
    responses=WRITE_RESPONSES,
    openapi_extra=body_rules(*WINDOW),
)
async def record_many(
    body: Annotated[ManyDecisionsRequest, Body()],
    principal: Caller,
    taxonomy: Taxonomy,
    parties: Parties,
    delegations: DelegationsOf,
    records: KeyRecords,
    stored: Stored,
    key: IdempotencyKey,
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
        holds_every_track(body.party, body.works, await stored.tracks(body.works))
    make = decision_maker(ConsentChangedMany, principal, authority, body.model_dump())
    handle = attempt(records, principal, key, "decisions.many", body)
    return written(await parties.append(body.party, make, handle))

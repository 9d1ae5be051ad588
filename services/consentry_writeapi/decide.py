"""Recording a party's decision, as plain functions of their dependencies: who may decide
(``authority_of``), the event the party's chain takes (``decision_maker``), and the whole
operation of ``POST /v1/decisions`` (``record_decision``) -- which its framework route and
its fast path both call, so authentication, the body's rules, the Idempotency-Key and
the write exist once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi.responses import Response
from pydantic import TypeAdapter

from consentry_auth import Principal
from consentry_domain import Taxonomy
from consentry_events import Authority, ConsentChanged, Decision, PartyEvent
from consentry_http import Authenticator
from consentry_http.inputs import Call, idempotency_key, json_body
from consentry_state import Delegations, IdempotencyRecords
from consentry_writeapi.authorise import may_decide, needs_grants
from consentry_writeapi.decision_requests import DecisionRequest
from consentry_writeapi.deps import attempt, grants, known_purpose
from consentry_writeapi.recorder import PartyLog
from consentry_writeapi.written import written

DECISION = TypeAdapter[DecisionRequest](DecisionRequest)
E = TypeVar("E", bound=PartyEvent)
D = TypeVar("D", bound=Decision)


async def authority_of(
    principal: Principal,
    party: str,
    purpose: str,
    taxonomy: Taxonomy,
    delegations: Delegations,
) -> Authority:
    """By what right ``principal`` decides ``purpose`` for ``party`` (422 for a purpose
    outside the taxonomy, 403 when it may not); delegations read only when they count."""
    known_purpose(taxonomy, purpose)
    granted = await grants(delegations, party) if needs_grants(principal, party) else []
    return may_decide(principal, party, purpose, granted)


def event_maker(
    kind: type[E], id_field: str, principal: Principal, authority: Authority, fields: Any
) -> Callable[[uuid.UUID, str | None], E]:
    """The event the party's log chains: the request's ``fields``, who and by what right,
    its id (under ``id_field``) and its link to the party's previous event."""

    def make(event_id: uuid.UUID, prev_hash: str | None) -> E:
        return kind(
            **{id_field: event_id},
            recorded_at=datetime.now(UTC),
            actor=principal.subject,
            authority=authority,
            prev_hash=prev_hash,
            **fields,
        )

    return make


def decision_maker(
    kind: type[D], principal: Principal, authority: Authority, fields: dict[str, Any]
) -> Callable[[uuid.UUID, str | None], D]:
    """A decision's event (``decision_id``)."""
    return event_maker(kind, "decision_id", principal, authority, fields)


async def record_decision(
    call: Call,
    auth: Authenticator,
    taxonomy: Taxonomy,
    parties: PartyLog,
    delegations: Delegations,
    records: IdempotencyRecords,
) -> Response:
    """``POST /v1/decisions``: the caller, the body, the Idempotency-Key (in that order,
    each refused with the one error body), who may decide, then the write."""
    principal = await auth.principal(call)
    body = await json_body(DECISION, call)
    key = idempotency_key(call)
    authority = await authority_of(principal, body.party, body.purpose, taxonomy, delegations)
    make = decision_maker(ConsentChanged, principal, authority, body.model_dump())
    handle = attempt(records, principal, key, "decisions", body)
    return written(await parties.append(body.party, make, handle))

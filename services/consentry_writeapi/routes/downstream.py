"""Downstream AI systems: operators register them, they send receipts for the changes
they acted on, and a party reads how far its decision has propagated.

* ``PUT /v1/downstream-systems/{name}`` (admins): the purposes it acts on and its
  deadline per change; ``GET /v1/downstream-systems`` (admins): each with its pending
  and overdue receipts.
* ``POST /v1/receipts`` (``system:<name>`` tokens, for themselves): up to 10,000
  receipts a request, each ``done``, ``not_held`` or ``failed`` with a reason; 202 once
  Kafka holds them all. Idempotent: the same receipt again changes nothing, a later one
  for the same change replaces it.
* ``GET /v1/decisions/{id}/receipt`` (the party, its delegates, admins): when it was
  recorded, by when checks enforced it, how many answers it changed, and each system's
  status.

What the receipts tracker has booked is read from the enforcer's store
(``consentry_state.ReceiptBook``); writes go to Kafka like every other fact.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from consentry_events import DownstreamSystem, ReceiptGiven, ReceiptStatus
from consentry_events.downstream import SystemName
from consentry_events.tokens import Token
from consentry_http import Caller, HttpProblem, responses
from consentry_state import Propagation, SystemProgress
from consentry_writeapi.authorise import may_read, may_register_systems, receipts_of
from consentry_writeapi.deps import (
    Book,
    DelegationsOf,
    Receipts,
    Systems,
    Taxonomy,
    grants,
    known_purpose,
)
from consentry_writeapi.receipt_schemas import (
    DecisionReceipt,
    ReceiptsAccepted,
    ReceiptsRequest,
    SystemOut,
    SystemRequest,
    SystemsOut,
    SystemStatus,
)

router = APIRouter(tags=["downstream"], responses=responses(400, 401, 403, 413, 422, 503))

RECEIPTS_MAX_BYTES = 8 * 1024 * 1024
"""10,000 receipts with 500-character reasons are ~6 MB of JSON (the app's body limit for
``POST /v1/receipts``): a batch within ``maxItems`` is never refused for its size."""


def _moment(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


@router.put("/v1/downstream-systems/{name}", status_code=202, response_model=SystemOut)
async def register_system(
    name: Annotated[SystemName, Path(description="e.g. training-pipeline")],
    body: SystemRequest,
    principal: Caller,
    taxonomy: Taxonomy,
    systems: Systems,
) -> JSONResponse:
    """Register (or change) a downstream system; it owes a receipt for each change of its
    purposes published from now on. Its token is ``system:<name>``."""
    may_register_systems(principal)
    for purpose in body.purposes:
        known_purpose(taxonomy, purpose)
    system = DownstreamSystem(
        name=name,
        purposes=tuple(body.purposes),
        deadline_s=body.deadline_s,
        recorded_at=datetime.now(UTC),
        actor=principal.subject,
    )
    await systems.register(system)
    out = SystemOut(
        name=name,
        purposes=list(system.purposes),
        deadline_s=system.deadline_s,
        registered_at=system.recorded_at,
        pending=0,
        overdue=0,
    )
    return JSONResponse(out.model_dump(mode="json"), status_code=202)


@router.get("/v1/downstream-systems", response_model=SystemsOut)
async def list_systems(principal: Caller, book: Book) -> SystemsOut:
    """Every registered system with its pending and overdue receipts (admins)."""
    may_register_systems(principal)
    systems = await book.systems()
    counts = await book.overdue(list(systems), _now_ms())
    return SystemsOut(
        systems=[
            SystemOut(
                name=s.name,
                purposes=list(s.purposes),
                deadline_s=s.deadline_s,
                registered_at=s.recorded_at,
                pending=counts[s.name][0],
                overdue=counts[s.name][1],
            )
            for s in systems.values()
        ]
    )


@router.post("/v1/receipts", status_code=202, response_model=ReceiptsAccepted)
async def send_receipts(
    body: ReceiptsRequest, principal: Caller, receipts: Receipts
) -> JSONResponse:
    """Acknowledge changes of the feed: ``done`` (purged or excluded), ``not_held``
    (never had the track) or ``failed`` (with a reason; send another once it is done)."""
    system = receipts_of(principal)
    now = datetime.now(UTC)
    given = [
        ReceiptGiven(
            system=system,
            change=r.change,
            status=ReceiptStatus(r.status),
            reason=r.reason,
            recorded_at=now,
        )
        for r in body.receipts
    ]
    await receipts.record(given)
    out = ReceiptsAccepted(accepted=len(given), system=system)
    return JSONResponse(out.model_dump(mode="json"), status_code=202)


def _status(progress: SystemProgress, overdue: bool) -> str:
    if progress.pending:
        return "overdue" if overdue else "pending"
    if progress.failed:
        return "failed"
    if progress.done:
        return "done"
    return "not_held" if progress.not_held else "pending"


@router.get(
    "/v1/decisions/{decision_id}/receipt",
    response_model=DecisionReceipt,
    responses=responses(404),
)
async def decision_receipt(
    decision_id: UUID, principal: Caller, delegations: DelegationsOf, book: Book
) -> DecisionReceipt:
    """How far the decision has propagated: checks, then each downstream system. The
    party's own (and its delegates', and admins'); nobody else's."""
    place = await book.place_of(str(decision_id))
    if place is None:
        raise HttpProblem(
            "unknown_decision",
            f"no decision {decision_id} has been seen (a decision just recorded takes a "
            "moment to appear)",
            status_code=404,
        )
    may_read(principal, place.party, await grants(delegations, place.party))
    progress: Propagation = await book.propagation(place.cause)
    systems = await book.systems()
    now = _now_ms()
    downstream = []
    for name, counts in progress.systems.items():
        deadline_ms = systems[name].deadline_s * 1000 if name in systems else 0
        last = progress.last_change_ms
        due = None if last is None else last + deadline_ms
        downstream.append(
            SystemStatus(
                system=name,
                status=_status(counts, due is not None and now >= due),
                pending=counts.pending,
                done=counts.done,
                not_held=counts.not_held,
                failed=counts.failed,
                due_by=_moment(due),
                last_receipt_at=_moment(counts.last_receipt_ms),
            )
        )
    topic, partition, offset = place.partition
    enforced = progress.enforced_ms
    return DecisionReceipt(
        decision_id=decision_id,
        party=place.party,
        token=str(Token(topic, partition, offset)),
        recorded_at=datetime.fromtimestamp(place.recorded_ms / 1000, UTC),
        checks_enforcing_by=_moment(enforced),
        enforced_after_ms=None if enforced is None else max(0, enforced - place.recorded_ms),
        tracks_changed=progress.changed,
        first_change_at=_moment(progress.first_change_ms),
        last_change_at=_moment(progress.last_change_ms),
        downstream=downstream,
    )

"""A decision's receipt (``/decisions/{id}``), the party's history with its chain
verified, and revoking a delegation it gave."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from consentry_portal.deps import Api, PagesOf, Session, checked, same_session

router = APIRouter()


@router.get("/decisions/{decision_id}", response_class=HTMLResponse)
async def receipt(
    request: Request,
    decision_id: str,
    session: Session,
    api: Api,
    pages: PagesOf,
    purpose: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The write API's receipt as it stands: what the server measured, nothing else."""
    me = session[1]
    reply = await api.write("GET", f"/v1/decisions/{decision_id}/receipt", me.token)
    # Just recorded: the receipts tracker may not have booked it yet.
    found = None if reply.status == 404 else checked(reply, "this decision")
    return pages.render(
        request,
        "receipt.html",
        status=200 if found is not None else 404,
        party=me.party,
        csrf=me.csrf,
        decision_id=decision_id,
        receipt=found,
        purpose=purpose,
        refresh=found is None or any(s["pending"] for s in found["downstream"]),
    )


@router.get("/history", response_class=HTMLResponse)
async def history(request: Request, session: Session, api: Api, pages: PagesOf) -> Response:
    me = session[1]
    base = f"/v1/parties/{me.party}"
    asked = {
        "history": "your history",
        "chain": "your chain",
        "delegations": "your delegations",
        "delegators": "the delegations you hold",
        "decisions-for-others": "the decisions you made for others",
    }
    replies = await asyncio.gather(*(api.write("GET", f"{base}/{p}", me.token) for p in asked))
    found = {
        p: checked(reply, what) for (p, what), reply in zip(asked.items(), replies, strict=True)
    }
    return pages.render(
        request,
        "history.html",
        party=me.party,
        csrf=me.csrf,
        events=list(reversed(found["history"]["decisions"])),
        chain=found["chain"],
        delegations=found["delegations"]["delegations"],
        delegators=found["delegators"]["delegators"],
        for_others=list(reversed(found["decisions-for-others"]["decisions"])),
    )


@router.post("/delegations/revoke")
async def revoke(
    session: Session,
    api: Api,
    csrf: Annotated[str, Form()] = "",
    delegate: Annotated[str, Form(max_length=200)] = "",
    purpose: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    me = session[1]
    same_session(me, csrf)
    body = {"party": me.party, "delegate": delegate, "purpose": purpose, "action": "revoke"}
    checked(await api.write("POST", "/v1/delegations", me.token, body), "the revocation")
    return RedirectResponse("/history", status_code=303)

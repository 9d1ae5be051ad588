""" "My works" (``/works``): the releases and tracks the signed-in party holds, with the
answers for a purpose, and the forms that decide (``/decide``) -- for the party itself or
for an artist who delegated the purpose to it. Every rule and refusal is the write
API's: the page acts with the party's own token."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from consentry_portal.deps import (
    Api,
    EnforceWait,
    PagesOf,
    Problem,
    Session,
    Taxonomy,
    checked,
    same_session,
)

router = APIRouter()

AI_ROLES = (
    "Composer",
    "Lyricist",
    "Arranger",
    "Instrumentalist",
    "Vocalist",
    "StudioProducer",
    "MixingEngineer",
    "MasteringEngineer",
)
"""The DDEX contributor roles a musician may credit AI with on the page (the API takes
any role)."""

STATED = {"all": "entirely AI-generated", "partly": "partly AI", "none": "no AI"}


@router.get("/works", response_class=HTMLResponse)
async def works(
    request: Request,
    session: Session,
    api: Api,
    pages: PagesOf,
    taxonomy: Taxonomy,
    q: Annotated[str, Query(max_length=200)] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
    purpose: Annotated[str, Query(max_length=200)] = "ai.training",
    error: Annotated[str, Query(max_length=500)] = "",
    notice: Annotated[str, Query(max_length=500)] = "",
    for_party: Annotated[str, Query(alias="for", max_length=200)] = "",
) -> Response:
    me = session[1]
    if not taxonomy.knows(purpose):
        purpose = "ai.training"
    subject = for_party or me.party
    params: dict[str, Any] = {"offset": offset, "limit": 20}
    if q:
        params["q"] = q
    held, listed, current = await asyncio.gather(
        api.write("GET", f"/v1/parties/{me.party}/delegators", me.token),
        api.write("GET", f"/v1/parties/{subject}/works", me.token, params=params),
        api.write("GET", f"/v1/parties/{subject}/decisions", me.token),
    )
    delegated: dict[str, list[str]] = {}
    for d in checked(held, "the delegations you hold")["delegators"]:
        if d["in_force"]:
            delegated.setdefault(d["party"], []).append(d["purpose"])
    if subject != me.party and subject not in delegated:
        raise Problem(403, "Not yours to decide", f"{subject} has not delegated to you.")
    listed = checked(listed, "the works")
    current = checked(current, "the decisions")
    isrcs = [t["isrc"] for r in listed["releases"] for t in r["tracks"]]
    answers = await api.answers(isrcs, purpose)
    mine = [d for d in current["decisions"] if d["choice"] != "withdrawn"]
    keep = {"q": q, "purpose": purpose} | ({"for": for_party} if for_party else {})
    return pages.render(
        request,
        "works.html",
        party=me.party,
        subject=subject,
        own=subject == me.party,
        delegated=delegated,
        csrf=me.csrf,
        works=listed,
        answers=answers,
        purpose=purpose,
        description=taxonomy.descriptions.get(purpose, ""),
        default=taxonomy.default(purpose).value,
        decisions=mine,
        q=q,
        error=error,
        notice=notice,
        roles=AI_ROLES,
        levels=STATED,
        next_link=None
        if listed["next_offset"] is None
        else "/works?" + urlencode(keep | {"offset": listed["next_offset"]}),
    )


@router.post("/decide")
async def decide(
    session: Session,
    api: Api,
    wait_s: EnforceWait,
    csrf: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form(max_length=200)] = "",
    choice: Annotated[str, Form(max_length=20)] = "",
    scope: Annotated[str, Form(max_length=20)] = "",
    upc: Annotated[str, Form(max_length=20)] = "",
    isrc: Annotated[list[str] | None, Form()] = None,
    effective_from: Annotated[str, Form(max_length=20)] = "",
    expires_at: Annotated[str, Form(max_length=20)] = "",
    for_party: Annotated[str, Form(alias="for", max_length=200)] = "",
) -> Response:
    """Record the decision through the write API, wait (a few seconds at most) until the
    API's receipt shows checks enforcing it, then show that receipt."""
    me = session[1]
    same_session(me, csrf)
    chosen = isrc or []
    subject = for_party or me.party  # the write API decides whether it may be
    body: dict[str, Any] = {"party": subject, "purpose": purpose, "choice": choice}
    for name, value in (("effective_from", effective_from), ("expires_at", expires_at)):
        if value:
            body[name] = f"{value}T00:00:00Z"
    path = "/v1/decisions"
    if scope == "track" and len(chosen) > 1:
        path = "/v1/decisions/many"
        body |= {"scope": "track", "works": chosen}
    elif scope == "track":
        body |= {"scope": "track", "isrc": chosen[0] if chosen else ""}
    elif scope == "release":
        body |= {"scope": "release", "upc": upc}
    else:
        body |= {"scope": "party"}
    reply = await api.write("POST", path, me.token, body)
    if not reply.ok:
        back = {"purpose": purpose or "ai.training", "error": reply.message}
        if for_party:
            back["for"] = for_party
        return RedirectResponse(f"/works?{urlencode(back)}", status_code=303)
    decision_id = reply.body["decision_id"]
    await api.enforced(decision_id, me.token, wait_s)
    return RedirectResponse(
        f"/decisions/{decision_id}?{urlencode({'purpose': purpose})}", status_code=303
    )


@router.post("/disclose")
async def disclose(
    session: Session,
    api: Api,
    csrf: Annotated[str, Form()] = "",
    contains_ai: Annotated[str, Form(max_length=20)] = "",
    credit: Annotated[list[str] | None, Form()] = None,
    isrc: Annotated[list[str] | None, Form()] = None,
    purpose: Annotated[str, Form(max_length=200)] = "ai.training",
) -> Response:
    """State (or withdraw) the AI disclosure of the chosen tracks through the write API --
    the party's own act, so never for a delegator -- then show the works once the checks
    answer from state that holds it."""
    me = session[1]
    same_session(me, csrf)
    chosen = isrc or []
    level = None if contains_ai == "withdraw" else contains_ai
    credits = (
        []
        if level in (None, "none")
        else [{"role": role, "contribution": level} for role in credit or []]
    )
    body = {"party": me.party, "works": chosen, "contains_ai": level, "ai_credits": credits}
    reply = await api.write("POST", "/v1/disclosures", me.token, body)
    back: dict[str, str] = {"purpose": purpose}
    if not reply.ok:
        back["error"] = reply.message
    else:
        await api.answers(chosen, purpose, reply.body["token"])
        said = "withdrawn" if level is None else f"stated as {STATED.get(level, level)}"
        back["notice"] = f"AI disclosure {said} for {len(chosen)} track(s)."
    return RedirectResponse(f"/works?{urlencode(back)}", status_code=303)

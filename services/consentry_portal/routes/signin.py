"""Signing in with a one-time login link, and out: ``/login?link=…`` spends the link,
opens a session (an HttpOnly, SameSite=Strict cookie holding a random id) and redirects,
so nothing secret stays in the address bar."""

from __future__ import annotations

import secrets
import time
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from consentry_auth import AuthError, verify_login_link
from consentry_portal.deps import (
    COOKIE,
    LinkVerifier,
    PagesOf,
    Problem,
    SecureCookies,
    Session,
    Sessions,
    SignInLimits,
    same_session,
)
from consentry_state import PortalSession

router = APIRouter()


@router.get("/login")
async def login(
    request: Request,
    link: Annotated[str, Query(max_length=4096)],
    verifier: LinkVerifier,
    sessions: Sessions,
    secure: SecureCookies,
    limits: SignInLimits,
) -> Response:
    if limits is not None:  # sign-in attempts, per client address: links cannot be guessed
        address = request.client.host if request.client else "unknown"
        await limits.admit(f"signin:{address}", "signin")
    try:
        claims = verify_login_link(verifier, link)
    except AuthError as exc:
        raise Problem(403, "This login link does not work", str(exc)) from exc
    left = int(claims.link_expires - time.time()) + 60
    if not await sessions.spend_link(claims.link_id, max(left, 1)):
        raise Problem(
            403, "This login link was already used", "Ask for a new one: each works once."
        )
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    ttl = max(1, int(claims.expires - time.time()))
    await sessions.open(session_id, PortalSession(claims.party.subject, link, csrf), ttl)
    response = RedirectResponse("/works", status_code=303)
    response.set_cookie(
        COOKIE, session_id, max_age=ttl, httponly=True, samesite="strict", secure=secure
    )
    return response


@router.post("/logout")
async def logout(
    session: Session, sessions: Sessions, csrf: Annotated[str, Form()] = ""
) -> Response:
    same_session(session[1], csrf)
    await sessions.close(session[0])
    response = RedirectResponse("/signed-out", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/signed-out", response_class=HTMLResponse)
async def signed_out_page(request: Request, pages: PagesOf) -> Response:
    return pages.render(request, "signed_out.html")


@router.get("/")
async def home(_: Session) -> Response:
    return RedirectResponse("/works", status_code=303)

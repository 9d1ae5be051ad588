"""The portal's composition root and pages: server-rendered HTML, forms that work
without JavaScript, no state of its own beyond sessions.

* **Sign-in**: ``/login?link=…`` takes a one-time link from ``consentry-admin
  login-link``, spends it, opens a session (an HttpOnly, SameSite=Strict cookie holding
  a random id) and redirects, so nothing secret stays in the address bar. A platform
  with its own identity provider puts an OIDC login in front and opens the same session
  with a party token it issues (see the README).
* **Pages** act as the signed-in party through the write API with the party's own
  token, so every rule and every refusal is the API's; answers come from the check
  service. Every form carries the session's CSRF token; a form without it is refused.
* A failure to reach the write API is said in words, never shown as saved.

Longer than 300 lines: every page is a handler over the same session, CSRF check,
templates and error pages, kept in one composition root; a page's logic is a few lines
of API calls, the rest is its template.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from redis.asyncio import Redis

from consentry_auth import PORTAL_AUDIENCE, AuthError, Verifier, verify_login_link
from consentry_domain import load_taxonomy
from consentry_portal.client import Apis, Reply, Unreachable
from consentry_portal.settings import PortalSettings
from consentry_state import PortalSession, PortalSessions

COOKIE = "consentry_session"
HERE = Path(str(resources.files("consentry_portal")))


class SignedOut(Exception):
    """No session: the page says how to sign in."""


class Problem(Exception):
    """A page that cannot be shown: status and the words to show."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


async def session_of(request: Request) -> tuple[str, PortalSession]:
    session_id = request.cookies.get(COOKIE)
    found = None if not session_id else await request.app.state.sessions.get(session_id)
    if session_id is None or found is None:
        raise SignedOut()
    return session_id, found


Session = Annotated[tuple[str, PortalSession], Depends(session_of)]


def apis(request: Request) -> Apis:
    found: Apis = request.app.state.apis
    return found


Api = Annotated[Apis, Depends(apis)]


def _csp(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def create_app(settings: PortalSettings) -> FastAPI:
    taxonomy = load_taxonomy(settings.purposes_file)
    purposes = [
        {
            "path": p,
            "default": taxonomy.default(p).value,
            "description": taxonomy.descriptions.get(p, ""),
        }
        for p in sorted(taxonomy.defaults)
        if p != "ai.canary"
    ]
    verifier = Verifier(settings.auth_public_key_file.read_bytes(), PORTAL_AUDIENCE)
    templates = Jinja2Templates(directory=str(HERE / "templates"))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Redis.from_url(settings.store_url, socket_timeout=2)
        app.state.sessions = PortalSessions(store)
        app.state.apis = Apis(
            settings.write_url, settings.check_url, settings.check_bearer(), settings.api_timeout_s
        )
        yield
        await app.state.apis.close()
        await store.aclose()

    app = FastAPI(
        title="Consentry portal", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    def page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
        return templates.TemplateResponse(
            request, name, {"purposes": purposes, **context}, status_code=status
        )

    def checked(reply: Reply, what: str) -> Any:
        if reply.status in (403, 404):
            raise Problem(reply.status, "Not yours", f"{what}: {reply.message}")
        if not reply.ok:
            raise Problem(reply.status, "Refused", f"{what}: {reply.message}")
        return reply.body

    @app.exception_handler(SignedOut)
    async def signed_out(request: Request, _: SignedOut) -> Response:
        return page(request, "signed_out.html", 401)

    @app.exception_handler(Problem)
    async def problem(request: Request, exc: Problem) -> Response:
        return page(request, "problem.html", exc.status, title=exc.title, message=exc.message)

    @app.exception_handler(Unreachable)
    async def unreachable(request: Request, exc: Unreachable) -> Response:
        if exc.sent:
            message = (
                f"{exc}. It may have been recorded before the answer was lost: look at "
                "History and proof before trying again."
            )
        else:
            message = f"{exc}. Nothing was saved: try again in a moment."
        return page(request, "problem.html", 503, title="Consentry is unreachable", message=message)

    @app.get("/login")
    async def login(request: Request, link: Annotated[str, Query(max_length=4096)]) -> Response:
        try:
            claims = verify_login_link(verifier, link)
        except AuthError as exc:
            raise Problem(403, "This login link does not work", str(exc)) from exc
        left = int(claims.link_expires - time.time()) + 60
        if not await request.app.state.sessions.spend_link(claims.link_id, max(left, 1)):
            raise Problem(
                403, "This login link was already used", "Ask for a new one: each works once."
            )
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        ttl = max(1, int(claims.expires - time.time()))
        party = claims.party.subject
        await request.app.state.sessions.open(session_id, PortalSession(party, link, csrf), ttl)
        response = RedirectResponse("/works", status_code=303)
        response.set_cookie(
            COOKIE,
            session_id,
            max_age=ttl,
            httponly=True,
            samesite="strict",
            secure=settings.secure_cookies,
        )
        return response

    @app.post("/logout")
    async def logout(
        request: Request, session: Session, csrf: Annotated[str, Form()] = ""
    ) -> Response:
        _same(session[1], csrf)
        await request.app.state.sessions.close(session[0])
        response = RedirectResponse("/signed-out", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/signed-out", response_class=HTMLResponse)
    async def signed_out_page(request: Request) -> Response:
        return page(request, "signed_out.html")

    @app.get("/")
    async def home(_: Session) -> Response:
        return RedirectResponse("/works", status_code=303)

    @app.get("/works", response_class=HTMLResponse)
    async def works(
        request: Request,
        session: Session,
        api: Api,
        q: Annotated[str, Query(max_length=200)] = "",
        offset: Annotated[int, Query(ge=0)] = 0,
        purpose: Annotated[str, Query(max_length=200)] = "ai.training",
        error: Annotated[str, Query(max_length=500)] = "",
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
        return page(
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
            next_link=None
            if listed["next_offset"] is None
            else "/works?" + urlencode(keep | {"offset": listed["next_offset"]}),
        )

    @app.post("/decide")
    async def decide(
        session: Session,
        api: Api,
        csrf: Annotated[str, Form()] = "",
        purpose: Annotated[str, Form(max_length=200)] = "",
        choice: Annotated[str, Form(max_length=20)] = "",
        scope: Annotated[str, Form(max_length=20)] = "",
        upc: Annotated[str, Form(max_length=20)] = "",
        isrc: Annotated[list[str] | None, Form()] = None,
        probe: Annotated[str, Form(max_length=20)] = "",
        effective_from: Annotated[str, Form(max_length=20)] = "",
        expires_at: Annotated[str, Form(max_length=20)] = "",
        for_party: Annotated[str, Form(alias="for", max_length=200)] = "",
    ) -> Response:
        me = session[1]
        _same(me, csrf)
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
        started = time.perf_counter()
        reply = await api.write("POST", path, me.token, body)
        if not reply.ok:
            back = {"purpose": purpose or "ai.training", "error": reply.message}
            if for_party:
                back["for"] = for_party
            return RedirectResponse(f"/works?{urlencode(back)}", status_code=303)
        accepted = reply.body
        target = chosen[0] if chosen else probe
        measured = None
        if target:
            measured = await api.enforced_after(
                target, purpose, accepted["token"], started, settings.enforce_wait_s
            )
        query = {"purpose": purpose, "token": accepted["token"]}
        if measured is not None:
            query["measured_ms"] = f"{measured:.0f}"
        return RedirectResponse(
            f"/decisions/{accepted['decision_id']}?{urlencode(query)}", status_code=303
        )

    @app.get("/decisions/{decision_id}", response_class=HTMLResponse)
    async def receipt(
        request: Request,
        decision_id: str,
        session: Session,
        api: Api,
        measured_ms: Annotated[str, Query(max_length=12)] = "",
        token: Annotated[str, Query(max_length=100)] = "",
        purpose: Annotated[str, Query(max_length=200)] = "",
    ) -> Response:
        me = session[1]
        reply = await api.write("GET", f"/v1/decisions/{decision_id}/receipt", me.token)
        # Just recorded (a token came with it): the tracker may not have booked it yet.
        found = None if reply.status == 404 and token else checked(reply, "this decision")
        return page(
            request,
            "receipt.html",
            party=me.party,
            csrf=me.csrf,
            decision_id=decision_id,
            receipt=found,
            measured_ms=measured_ms,
            token=token or (found or {}).get("token", ""),
            purpose=purpose,
            refresh=found is None or any(s["pending"] for s in found["downstream"]),
        )

    @app.get("/history", response_class=HTMLResponse)
    async def history(request: Request, session: Session, api: Api) -> Response:
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
        return page(
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

    @app.post("/delegations/revoke")
    async def revoke(
        session: Session,
        api: Api,
        csrf: Annotated[str, Form()] = "",
        delegate: Annotated[str, Form(max_length=200)] = "",
        purpose: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        me = session[1]
        _same(me, csrf)
        body = {"party": me.party, "delegate": delegate, "purpose": purpose, "action": "revoke"}
        checked(await api.write("POST", "/v1/delegations", me.token, body), "the revocation")
        return RedirectResponse("/history", status_code=303)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    @app.middleware("http")
    async def stamp(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        return _csp(response)

    return app


def _same(session: PortalSession, csrf: str) -> None:
    if not csrf or not secrets.compare_digest(csrf, session.csrf):
        raise Problem(
            403,
            "Refused",
            "This form is not from your session (missing or wrong CSRF token): reload the "
            "page and try again.",
        )


def from_environment() -> FastAPI:
    return create_app(PortalSettings())

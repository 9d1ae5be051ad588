"""The portal's composition root: server-rendered HTML, forms that work without
JavaScript, no state of its own beyond sessions. The pages are ``routes``' modules,
what they depend on ``deps``'.

* **Sign-in** with a one-time link from ``consentry-admin login-link`` (``routes.signin``);
  a platform with its own identity provider puts an OIDC login in front and opens the
  same session with a party token it issues (see the README).
* **Pages** act as the signed-in party through the write API with the party's own
  token, so every rule and every refusal is the API's; answers come from the check
  service. Every form carries the session's CSRF token; a form without it is refused.
* A failure to reach the write API is said in words, never shown as saved.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from redis.asyncio import Redis

from consentry_auth import PORTAL_AUDIENCE, KeySet, Verifier
from consentry_domain import load_taxonomy
from consentry_http.limits import limiter_for
from consentry_http.problems import TooMany
from consentry_portal.client import Apis, Unreachable
from consentry_portal.deps import Pages, PortalServices, Problem, SignedOut
from consentry_portal.routes import earnings, history, signin, works
from consentry_portal.settings import PortalSettings
from consentry_state import PortalSessions

HERE = Path(str(resources.files("consentry_portal")))


def _secured(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def create_app(settings: PortalSettings) -> FastAPI:
    taxonomy = load_taxonomy(settings.purposes_file)
    pages = Pages(Jinja2Templates(directory=str(HERE / "templates")), taxonomy)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Redis.from_url(settings.store_url, socket_timeout=2)
        limiter, limits_store = limiter_for(settings.limits_url, settings.rate_limits, "portal")
        apis = Apis(
            settings.write_url, settings.check_url, settings.check_bearer(), settings.api_timeout_s
        )
        app.state.services = PortalServices(
            taxonomy=taxonomy,
            pages=pages,
            verifier=Verifier(KeySet(settings.auth_public_key_file), PORTAL_AUDIENCE),
            sessions=PortalSessions(store),
            apis=apis,
            secure_cookies=settings.secure_cookies,
            enforce_wait_s=settings.enforce_wait_s,
            limiter=limiter,
        )
        yield
        await apis.close()
        await store.aclose()
        if limits_store is not None:
            await limits_store.aclose()

    app = FastAPI(
        title="Consentry portal", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(SignedOut)
    async def signed_out(request: Request, _: SignedOut) -> Response:
        return pages.render(request, "signed_out.html", 401)

    @app.exception_handler(Problem)
    async def problem(request: Request, exc: Problem) -> Response:
        return pages.render(
            request, "problem.html", exc.status, title=exc.title, message=exc.message
        )

    @app.exception_handler(TooMany)
    async def too_many(request: Request, exc: TooMany) -> Response:
        page = pages.render(
            request, "problem.html", 429, title="Too many attempts", message=str(exc)
        )
        page.headers.update(exc.headers)
        return page

    @app.exception_handler(Unreachable)
    async def unreachable(request: Request, exc: Unreachable) -> Response:
        if exc.sent:
            message = (
                f"{exc}. It may have been recorded before the answer was lost: look at "
                "History and proof before trying again."
            )
        else:
            message = f"{exc}. Nothing was saved: try again in a moment."
        title = "Consentry is unreachable"
        return pages.render(request, "problem.html", 503, title=title, message=message)

    for module in (signin, works, history, earnings):
        app.include_router(module.router)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    @app.middleware("http")
    async def stamp(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        return _secured(response)

    return app


def from_environment() -> FastAPI:
    return create_app(PortalSettings())

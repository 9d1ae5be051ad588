"""What the portal's pages depend on, as typed ``Annotated`` dependencies, and the two
ways a page ends early: signed out (``SignedOut``) or refused (``Problem``).

The composition root (``app.create_app``) builds one ``PortalServices`` at start-up;
pages name each thing they need (``Session``, ``Api``, ``Pages`` ...).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from consentry_auth import Verifier
from consentry_domain import Taxonomy as TaxonomyRules
from consentry_http.limits import Limiter
from consentry_http.parts import part
from consentry_portal.client import Apis, Reply
from consentry_state import PortalSession, PortalSessions

COOKIE = "consentry_session"


class SignedOut(Exception):
    """No session: the page says how to sign in."""


class Problem(Exception):
    """A page that cannot be shown: status and the words to show."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


class Pages:
    """Server-rendered pages: a template with the taxonomy's purposes beside the page's
    own context."""

    def __init__(self, templates: Jinja2Templates, taxonomy: TaxonomyRules) -> None:
        self._templates = templates
        self.purposes = [
            {
                "path": p,
                "default": taxonomy.default(p).value,
                "description": taxonomy.descriptions.get(p, ""),
            }
            for p in sorted(taxonomy.defaults)
            if p != "ai.canary"
        ]

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        return self._templates.TemplateResponse(
            request, name, {"purposes": self.purposes, **context}, status_code=status
        )


@dataclass(frozen=True, slots=True)
class PortalServices:
    taxonomy: TaxonomyRules
    pages: Pages
    verifier: Verifier
    sessions: PortalSessions
    apis: Apis
    secure_cookies: bool
    enforce_wait_s: float
    limiter: Limiter | None


Taxonomy = Annotated[TaxonomyRules, part("taxonomy")]
PagesOf = Annotated[Pages, part("pages")]
LinkVerifier = Annotated[Verifier, part("verifier")]
Sessions = Annotated[PortalSessions, part("sessions")]
Api = Annotated[Apis, part("apis")]
SecureCookies = Annotated[bool, part("secure_cookies")]
EnforceWait = Annotated[float, part("enforce_wait_s")]
SignInLimits = Annotated[Limiter | None, part("limiter")]


async def _session(request: Request, sessions: Sessions) -> tuple[str, PortalSession]:
    session_id = request.cookies.get(COOKIE)
    found = None if not session_id else await sessions.get(session_id)
    if session_id is None or found is None:
        raise SignedOut()
    return session_id, found


Session = Annotated[tuple[str, PortalSession], Depends(_session)]


def same_session(session: PortalSession, csrf: str) -> None:
    """A form's CSRF token must be its session's."""
    if not csrf or not secrets.compare_digest(csrf, session.csrf):
        raise Problem(
            403,
            "Refused",
            "This form is not from your session (missing or wrong CSRF token): reload the "
            "page and try again.",
        )


def checked(reply: Reply, what: str) -> Any:
    """The API's answer, or the page that says why there is none."""
    if reply.status in (403, 404):
        raise Problem(reply.status, "Not yours", f"{what}: {reply.message}")
    if not reply.ok:
        raise Problem(reply.status, "Refused", f"{what}: {reply.message}")
    return reply.body

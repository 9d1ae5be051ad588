"""The HTTP services' edge: bearer-token authentication, refusals and a body size limit."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import Counter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consentry_auth.tokens import AuthError, Principal, Verifier

_scheme = HTTPBearer(
    auto_error=False,
    description="A Consentry token (JWT, EdDSA): `consentry-admin token <kind>:<id>`.",
)


def _challenge(error: AuthError) -> HTTPException:
    return HTTPException(
        status_code=401,
        detail={"reason": error.reason, "message": str(error)},
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{error}"'},
    )


class BearerAuth:
    """An app's token check: set it as ``app.state.auth``; routes take a ``Caller``."""

    def __init__(self, verifier: Verifier, failures: Counter) -> None:
        self._verifier = verifier
        self._failures = failures

    def authenticate(self, credentials: HTTPAuthorizationCredentials | None) -> Principal:
        try:
            if credentials is None:
                raise AuthError("missing", "a bearer token is required (Authorization: Bearer …)")
            return self._verifier.verify(credentials.credentials)
        except AuthError as error:
            self._failures.labels(reason=error.reason).inc()
            raise _challenge(error) from None


async def _caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_scheme)],
) -> Principal:
    auth: BearerAuth = request.app.state.auth
    return auth.authenticate(credentials)


Caller = Annotated[Principal, Depends(_caller)]
"""A route parameter: the authenticated principal (401 without a valid token)."""


class Refused(HTTPException):
    """403 with a machine-readable reason and a sentence for people."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(status_code=403, detail={"reason": reason, "message": message})
        self.reason = reason


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` is answered 413, unread.

    Checks the declared Content-Length first, then counts what actually arrives (a
    chunked body declares none)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self._app = app
        self._max = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self._max):
            await self._too_large(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self._max:
                raise _TooLarge
            return message

        try:
            await self._app(scope, counted, send)
        except _TooLarge:
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse({"detail": f"request body over {self._max} bytes"}, status_code=413)
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass

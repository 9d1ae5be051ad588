"""Bearer-token authentication, one parser for every way in: routes take a ``Caller``;
an operation with a fast path asks the app's ``Authenticator`` itself. Every way in is
rate limited per principal the same way, right after the token is verified."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import Counter

from consentry_auth import AuthError, Principal, Verifier
from consentry_http.inputs import Call
from consentry_http.limits import Limiter
from consentry_http.problems import Unauthenticated

_documented = HTTPBearer(
    auto_error=False,
    description="A Consentry token (JWT, EdDSA): `consentry-admin token <kind>:<id>`.",
)
"""Only for the OpenAPI document's security scheme: the token is read by ``bearer_token``."""


def bearer_token(authorization: Sequence[str]) -> str:
    """The token of the request's ``Authorization`` headers: exactly one, ``Bearer <token>``."""
    if len(authorization) > 1:
        raise AuthError("malformed", "send one Authorization header, not several")
    scheme, _, token = (authorization[0] if authorization else "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthError("missing", "a bearer token is required (Authorization: Bearer <token>)")
    return token


def _challenge(error: AuthError) -> Unauthenticated:
    text = str(error).replace('"', "'").encode("ascii", "replace").decode()
    return Unauthenticated(
        error.reason,
        str(error),
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{text}"'},
    )


class Authenticator:
    """An app's token check (``install`` puts it on ``app.state.auth``); each failure
    counted by reason and answered 401 with a ``WWW-Authenticate`` challenge; then the
    principal's rate limit (``limiter``; 429 once spent)."""

    def __init__(
        self, verifier: Verifier, failures: Counter, limiter: Limiter | None = None
    ) -> None:
        self._verifier = verifier
        self._failures = failures
        self._limiter = limiter

    def install(self, app: FastAPI) -> None:
        app.state.auth = self

    async def principal(self, call: Call) -> Principal:
        try:
            found = self._verifier.verify(bearer_token(call.header(b"authorization")))
        except AuthError as error:
            self._failures.labels(reason=error.reason).inc()
            raise _challenge(error) from None
        if self._limiter is not None:
            await self._limiter.admit(found.subject, found.kind.value)
        return found


async def _caller(
    request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(_documented)]
) -> Principal:
    auth: Authenticator = request.app.state.auth
    return await auth.principal(Call.of(request))


Caller = Annotated[Principal, Depends(_caller)]
"""A route parameter: the authenticated principal (401 without a valid token)."""

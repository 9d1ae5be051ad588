"""Bearer-token authentication as a FastAPI dependency: routes take a ``Caller``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import Counter

from consentry_auth import AuthError, Principal, Verifier
from consentry_http.problems import Unauthenticated

_scheme = HTTPBearer(
    auto_error=False,
    description="A Consentry token (JWT, EdDSA): `consentry-admin token <kind>:<id>`.",
)


def _challenge(error: AuthError) -> Unauthenticated:
    text = str(error).replace('"', "'").encode("ascii", "replace").decode()
    return Unauthenticated(
        error.reason,
        str(error),
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{text}"'},
    )


class BearerAuth:
    """An app's token check, installed with ``install``; routes take a ``Caller``."""

    def __init__(self, verifier: Verifier, failures: Counter) -> None:
        self._verifier = verifier
        self._failures = failures

    def install(self, app: FastAPI) -> None:
        app.state.bearer_auth = self

    def authenticate(self, credentials: HTTPAuthorizationCredentials | None) -> Principal:
        try:
            if credentials is None:
                raise AuthError(
                    "missing", "a bearer token is required (Authorization: Bearer <token>)"
                )
            return self._verifier.verify(credentials.credentials)
        except AuthError as error:
            self._failures.labels(reason=error.reason).inc()
            raise _challenge(error) from None


async def _caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_scheme)],
) -> Principal:
    auth: BearerAuth = request.app.state.bearer_auth
    return auth.authenticate(credentials)


Caller = Annotated[Principal, Depends(_caller)]
"""A route parameter: the authenticated principal (401 without a valid token)."""

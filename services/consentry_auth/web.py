"""The HTTP services' edge: serving, bearer-token authentication and refusals."""

from __future__ import annotations

from typing import Annotated, Literal

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import Counter

from consentry_auth.tokens import AuthError, Principal, Verifier

_scheme = HTTPBearer(
    auto_error=False,
    description="A Consentry token (JWT, EdDSA): `consentry-admin token <kind>:<id>`.",
)


def _challenge(error: AuthError) -> HTTPException:
    text = str(error).replace('"', "'").encode("ascii", "replace").decode()
    return HTTPException(
        status_code=401,
        detail={"reason": error.reason, "message": str(error)},
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{text}"'},
    )


class BearerAuth:
    """An app's token check: set it as ``app.state.auth``; routes take a ``Caller``."""

    def __init__(self, verifier: Verifier, failures: Counter) -> None:
        self._verifier = verifier
        self._failures = failures

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
    auth: BearerAuth = request.app.state.auth
    return auth.authenticate(credentials)


Caller = Annotated[Principal, Depends(_caller)]
"""A route parameter: the authenticated principal (401 without a valid token)."""


class Refused(HTTPException):
    """403 with a machine-readable reason and a sentence for people."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(status_code=403, detail={"reason": reason, "message": message})
        self.reason = reason


KEEP_ALIVE_S = 75
"""Idle keep-alive connections are kept longer than clients' and load balancers' usual
60 s, so a client never sends a request on a connection the server is closing."""


def serve(app: FastAPI, host: str, port: int, loop: Literal["auto", "asyncio"] = "auto") -> None:
    """Run an HTTP service in the foreground (one uvicorn worker).

    ``loop="auto"`` takes uvloop when installed; a service that talks to Kafka over TLS
    must take ``"asyncio"``: under uvloop, aiokafka's TLS connections hang now and then
    (a consumer read of a party's history hung in 14 of 30 tries, none under asyncio).
    """
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop=loop,
        log_level="warning",
        timeout_keep_alive=KEEP_ALIVE_S,
    )

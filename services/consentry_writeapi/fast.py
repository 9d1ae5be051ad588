"""``POST /v1/decisions`` answered without the framework's per-request machinery.

Profiled under load, one write cost ~0.7-0.85 ms of CPU, about half of it in FastAPI and
Starlette: routing, dependency solving, request objects, body parsing, the response
class. ``FastDecisions`` takes the request first and records it itself when it is one
the route would record: one bearer token that verifies, a JSON body within the limit
that ``DecisionRequest`` accepts, at most one well-formed Idempotency-Key, and a caller
who may decide (the route's own ``authority_of``). Anything else -- a missing or bad
token, a malformed body, a refusal, Redis unreachable while checking who may decide --
is handed on untouched (the body replayed) to the framework, which gives the one error
body and counts the refusal; nothing has been written by then. Once the write has
begun, its errors are answered here with the same error bodies as the route's
(``errors.as_problem``). The write itself is the route's: ``PartyLog.append`` of the
event ``decision_maker`` builds. So both paths have one semantics and the OpenAPI document
describes both; an integration test sends the same requests through both and compares.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consentry_auth import AuthError, Principal, Verifier
from consentry_domain.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from consentry_events import ConsentChanged
from consentry_http import HttpProblem
from consentry_http.problems import ErrorBody
from consentry_writeapi import metrics
from consentry_writeapi.decision_requests import DecisionRequest
from consentry_writeapi.deps import WriteServices, attempt
from consentry_writeapi.errors import PublishError, as_problem
from consentry_writeapi.routes.decisions import authority_of, decision_maker

ROUTE = "/v1/decisions"
_REQUEST = TypeAdapter[Any](DecisionRequest)
_KEY = re.compile(r"[\x21-\x7e]{1,200}")
_JSON = (b"content-type", b"application/json")
_WRITE_ERRORS = (PublishError, IdempotencyKeyReused, IdempotencyKeyInFlight, RedisError)


class _Handover(Exception):
    """Not for the fast path: the framework answers the request."""


class FastDecisions:
    def __init__(self, app: ASGIApp, verifier: Verifier, max_body_bytes: int) -> None:
        self._app = app
        self._verifier = verifier
        self._max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != ROUTE or scope["method"] != "POST":
            await self._app(scope, receive, send)
            return
        read: list[Message] = []
        try:
            principal, key = self._headers(scope)
            services: WriteServices | None = getattr(scope["app"].state, "services", None)
            if services is None:
                raise _Handover
            body = await self._body(receive, read)
            try:
                request = _REQUEST.validate_json(body)
            except ValidationError:
                raise _Handover from None
            try:
                authority = await authority_of(
                    principal,
                    request.party,
                    request.purpose,
                    services.taxonomy,
                    services.delegations,
                )
            except (HttpProblem, RedisError):
                raise _Handover from None
        except _Handover:
            await self._app(scope, _replayed(read, receive), send)
            return
        make = decision_maker(ConsentChanged, principal, authority, request.model_dump())
        handle = attempt(services.idempotency, principal, key, "decisions", request)
        status = 500
        try:
            try:
                result = await services.parties.append(request.party, make, handle)
            except _WRITE_ERRORS as exc:
                problem = as_problem(exc)
                status = problem.status_code
                await _answer(send, status, _problem_body(problem), problem.headers)
                return
            status = 202
            replayed = {"Idempotent-Replayed": "true"} if result.replayed else None
            accepted = orjson.dumps(result.accepted.model_dump(mode="json"))
            await _answer(send, 202, accepted, replayed)
        finally:
            metrics.REQUESTS.labels(route=ROUTE, status=str(status)).inc()

    def _headers(self, scope: Scope) -> tuple[Principal, str | None]:
        token = key = content_type = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, credentials = value.decode("latin-1").partition(" ")
                if scheme.lower() != "bearer" or token is not None:
                    raise _Handover
                token = credentials
            elif name == b"idempotency-key":
                if key is not None:
                    raise _Handover
                key = value.decode("latin-1")
            elif name == b"content-type":
                content_type = value
            elif name == b"content-length" and (
                not value.isdigit() or int(value) > self._max_body_bytes
            ):
                raise _Handover
        if not token or content_type != b"application/json":
            raise _Handover
        if key is not None and not _KEY.fullmatch(key):
            raise _Handover
        try:
            return self._verifier.verify(token), key
        except AuthError:
            raise _Handover from None

    async def _body(self, receive: Receive, read: list[Message]) -> bytes:
        """The whole body; every message taken is kept in ``read`` for a handover."""
        size = 0
        while True:
            message = await receive()
            read.append(message)
            if message["type"] != "http.request":
                raise _Handover
            size += len(message.get("body", b""))
            if size > self._max_body_bytes:
                raise _Handover
            if not message.get("more_body", False):
                return b"".join(m.get("body", b"") for m in read)


def _replayed(read: list[Message], receive: Receive) -> Receive:
    """``receive`` as if nothing had been taken: the messages read so far, then the rest."""
    pending = list(read)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def _problem_body(problem: HttpProblem) -> bytes:
    return orjson.dumps(
        ErrorBody(detail=problem.problem).model_dump(mode="json", exclude_none=True)
    )


async def _answer(send: Send, status: int, body: bytes, headers: dict[str, str] | None) -> None:
    raw = [_JSON, (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})

"""Fast paths: an operation answered before the framework's per-request machinery.

Profiled under load, FastAPI's routing, dependency solving, request objects and body
parsing cost about half of a write's CPU and 60% of a check's. An operation that is hot
is written once as ``async def operation(call: Call) -> Response`` (reading its inputs
through ``consentry_http.inputs``, so every rule is the framework route's too); its
FastAPI route calls it with ``Call.of(request)`` and ``FastPaths`` calls it straight from
ASGI. Both ways answer every refusal with the same ``Refusals`` (counted alike), and a
test drives the same requests, errors included, both ways and compares.

``FastPaths`` sits inside the app's other middleware (body limit, request counting and
timing see both ways) and outside the router; it leaves every other request to the
framework, and this one too until the app has started (its ``state`` is built then).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consentry_http.inputs import Call

Operation = Callable[[Call], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Route:
    """What ``scope["route"]`` says of a request a fast path answered (the request
    counter reads its ``path``, the route template, as it does of the framework's)."""

    method: str
    path: str


async def whole_body(receive: Receive) -> bytes:
    """The request's body, read to its end."""
    chunks = []
    while True:
        message: Message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class FastPaths:
    """Pure ASGI middleware: ``(method, path)`` -> its operation, called directly."""

    def __init__(self, app: ASGIApp, operations: Mapping[tuple[str, str], Operation]) -> None:
        self._app = app
        self._operations = dict(operations)
        self._routes = {key: Route(*key) for key in operations}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        key = (scope["method"], scope["path"])
        operation = self._operations.get(key)
        if operation is None:
            await self._app(scope, receive, send)
            return
        app = scope["app"]
        state = app.state
        if not getattr(state, "started", False):
            await self._app(scope, receive, send)
            return
        scope["route"] = self._routes[key]
        call = Call(scope["headers"], scope["query_string"], lambda: whole_body(receive), state)
        try:
            response = await operation(call)
        except Exception as exc:
            refused = state.refusals.response_for(exc)
            if refused is None:
                raise
            response = refused
        await response(scope, receive, send)

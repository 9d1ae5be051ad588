"""Every HTTP request seen once, whichever way in it was answered (the framework or a fast
path): its status and server-side time, handed to the service's own metrics."""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Observer = Callable[[Scope, int, float], None]
"""``(scope, status, seconds)``: the scope as the app left it (``scope["route"]`` set)."""


class Observed:
    """Pure ASGI middleware (Starlette's ``BaseHTTPMiddleware`` runs each request in a task
    of its own, a fifth of the write path's CPU), added last so it sees both ways in."""

    def __init__(self, app: ASGIApp, observe: Observer) -> None:
        self._app = app
        self._observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def sent(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, sent)
        finally:
            self._observe(scope, status, time.perf_counter() - started)

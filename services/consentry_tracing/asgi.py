"""A server span for every HTTP request, whichever way in it was answered."""

from __future__ import annotations

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consentry_tracing.setup import tracer

_PROPAGATOR = TraceContextTextMapPropagator()


class Traced:
    """Pure ASGI middleware, outermost: the span is current while the request is handled,
    so what the handler writes to Kafka carries it (``record_headers``)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in (b"traceparent", b"tracestate")
        }
        parent = _PROPAGATOR.extract(carrier) if carrier else None
        method = scope["method"]
        span = tracer().start_span(method, context=parent, kind=SpanKind.SERVER)
        if not span.is_recording():  # not sampled: nothing below would record either
            await self._app(scope, receive, send)
            return
        status = 500

        async def sent(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            await self._app(scope, receive, sent)
        finally:
            otel_context.detach(token)
            # The route's template, never the raw path (ids, and no bound on names).
            template = getattr(scope.get("route"), "path", None)
            span.update_name(f"{method} {template}" if template else method)
            span.set_attribute("http.request.method", method)
            if template:
                span.set_attribute("http.route", template)
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            span.end()

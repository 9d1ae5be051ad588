"""Trace context in Kafka record headers (W3C ``traceparent``), written and read."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from opentelemetry import trace
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from consentry_tracing.setup import enabled, tracer

TRACEPARENT = "traceparent"
_PROPAGATOR = TraceContextTextMapPropagator()


class Traceable(Protocol):
    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def headers(self) -> tuple[tuple[str, bytes], ...]: ...


def record_headers() -> list[tuple[str, bytes]]:
    """The current span's ``traceparent`` as a record header, if it is sampled; else none."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid or not context.trace_flags.sampled:
        return []
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return [(TRACEPARENT, carrier[TRACEPARENT].encode())]


def _traceparent(headers: Iterable[tuple[str, bytes]]) -> str | None:
    for name, value in headers:
        if name == TRACEPARENT:
            return value.decode("ascii", "replace")
    return None


@contextlib.contextmanager
def spans_of(name: str, records: Sequence[Traceable]) -> Iterator[list[trace.Span]]:
    """A consumer span per record that carries a sampled ``traceparent``, each the child
    of its record's producer span, open for the ``with`` block (the records' handling);
    the block may add attributes. Records without one cost a header scan."""
    spans: list[trace.Span] = []
    for record in records if enabled() else ():
        parent = _traceparent(record.headers)
        if parent is None:
            continue
        context = _PROPAGATOR.extract({TRACEPARENT: parent})
        if not trace.get_current_span(context).get_span_context().is_valid:
            continue
        span = tracer().start_span(
            name,
            context=context,
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": record.topic,
                "messaging.destination.partition.id": str(record.partition),
                "messaging.kafka.offset": record.offset,
                "messaging.batch.message_count": len(records),
            },
        )
        spans.append(span)
    try:
        yield spans
    finally:
        for span in spans:
            span.end()

"""Trace context in Kafka record headers (W3C ``traceparent``), written and read."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from consentry_tracing.setup import enabled, tracer

log = logging.getLogger(__name__)

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
    def headers(self) -> tuple[tuple[str, bytes | None], ...]: ...


def record_headers() -> list[tuple[str, bytes]]:
    """The current span's ``traceparent`` as a record header, if it is sampled; else none."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid or not context.trace_flags.sampled:
        return []
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return [(TRACEPARENT, carrier[TRACEPARENT].encode())]


def _traceparent(headers: Iterable[tuple[str, bytes | None]]) -> str | None:
    for name, value in headers:
        if name == TRACEPARENT and isinstance(value, bytes):
            return value.decode("ascii", "replace")
    return None


def _span(name: str, record: Traceable, of: int) -> trace.Span | None:
    """The consumer span of one record, or None: no sampled ``traceparent`` -- or any
    header at all, a null value, a malformed one (the record is judged elsewhere; its
    trace is only ever looked at, never trusted, and never fails its handling)."""
    parent = _traceparent(record.headers)
    if parent is None:
        return None
    try:
        context = _PROPAGATOR.extract({TRACEPARENT: parent})
        if not trace.get_current_span(context).get_span_context().is_valid:
            return None
        return tracer().start_span(
            name,
            context=context,
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": record.topic,
                "messaging.destination.partition.id": str(record.partition),
                "messaging.kafka.offset": record.offset,
                "messaging.batch.message_count": of,
            },
        )
    except Exception:  # tracing must never stop a batch
        log.warning(
            "record %s:%d:%d: its trace ignored",
            record.topic,
            record.partition,
            record.offset,
            exc_info=True,
        )
        return None


@contextlib.contextmanager
def spans_of(
    name: str, records: Sequence[Traceable]
) -> Iterator[dict[tuple[str, int, int], trace.Span]]:
    """A consumer span per record that carries a sampled ``traceparent`` (by the
    record's topic, partition and offset), each the child of its record's producer
    span, open for the ``with`` block (the records' handling);
    the block may add attributes. A block that raises (a batch to be tried again) ends
    them with an error status and the exception recorded. Records without a
    ``traceparent`` cost a header scan; with tracing off, nothing."""
    spans = {
        (record.topic, record.partition, record.offset): span
        for record in (records if enabled() else ())
        if (span := _span(name, record, len(records))) is not None
    }
    try:
        yield spans
    except BaseException as exc:
        for span in spans.values():
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        raise
    finally:
        for span in spans.values():
            span.end()


def span_headers(span: trace.Span) -> list[tuple[str, bytes]]:
    """``span``'s context as the ``traceparent`` header of the records it causes (the
    change feed's, for a follower to carry the trace on)."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
    value = carrier.get(TRACEPARENT)
    return [] if value is None else [(TRACEPARENT, value.encode())]

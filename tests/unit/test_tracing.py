"""Trace context from an HTTP request into the records it writes and out of them again,
asserted with OpenTelemetry's own in-memory exporter (the cross-process test, on the
running stack, is tests/integration/test_traces.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased
from opentelemetry.trace import SpanKind, StatusCode
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from consentry_tracing import (
    TRACEPARENT,
    configure,
    install,
    record_headers,
    span_headers,
    spans_of,
)
from consentry_tracing.asgi import Traced

TRACE = "0af7651916cd43dd8448eb211c80319c"
CALLER = "b7ad6b7169203331"


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    headers: tuple[tuple[str, bytes | None], ...]


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(ALWAYS_OFF))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    before = install(provider)
    yield exporter
    install(before)


def app() -> Traced:
    async def write(request: Request) -> JSONResponse:
        # What TopicLog does: the headers of the records this request writes.
        return JSONResponse({"headers": [[n, v.decode()] for n, v in record_headers()]})

    return Traced(Starlette(routes=[Route("/v1/decisions", write, methods=["POST"])]))


async def post(traceparent: str | None) -> list[list[str]]:
    headers = {} if traceparent is None else {"traceparent": traceparent}
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/v1/decisions", headers=headers)
    assert response.status_code == 200
    written: list[list[str]] = response.json()["headers"]
    return written


async def test_a_sampled_request_is_a_span_and_its_records_carry_it(
    exported: InMemorySpanExporter,
) -> None:
    written = await post(f"00-{TRACE}-{CALLER}-01")
    [span] = exported.get_finished_spans()
    assert span.name == "POST /v1/decisions"
    assert span.kind is SpanKind.SERVER
    assert span.parent is not None
    assert (f"{span.parent.trace_id:032x}", f"{span.parent.span_id:016x}") == (TRACE, CALLER)
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 200
    assert written == [[TRACEPARENT, f"00-{TRACE}-{span.context.span_id:016x}-01"]]

    # A worker reading those records: a consumer span per traced record, its child.
    records = [
        Record("consent", 0, 7, ((TRACEPARENT, written[0][1].encode()),)),
        Record("consent", 0, 8, ()),
    ]
    with spans_of("consentry.materialise", records) as spans:
        [(place, open_span)] = spans.items()
        assert place == ("consent", 0, 7)
        # What the records it causes carry (the enforcer's change feed): this span.
        caused = span_headers(open_span)
    consumer = exported.get_finished_spans()[-1]
    assert caused == [(TRACEPARENT, f"00-{TRACE}-{consumer.context.span_id:016x}-01".encode())]
    assert consumer.kind is SpanKind.CONSUMER
    assert consumer.parent is not None
    assert consumer.parent.span_id == span.context.span_id
    assert consumer.context.trace_id == span.context.trace_id
    assert consumer.attributes is not None
    assert consumer.attributes["messaging.kafka.offset"] == 7


async def test_an_unsampled_request_leaves_nothing(exported: InMemorySpanExporter) -> None:
    assert await post(f"00-{TRACE}-{CALLER}-00") == []
    assert await post(None) == [], "the default here samples no root"
    assert exported.get_finished_spans() == ()


async def test_a_root_request_sampled_by_the_ratio_starts_a_trace() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(ALWAYS_ON))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    before = install(provider)
    try:
        [[_, value]] = await post(None)
    finally:
        install(before)
    [span] = exporter.get_finished_spans()
    assert span.parent is None
    assert value.startswith(f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-")
    assert int(value[-2:], 16) & 1, "sampled"


def test_tracing_off_costs_the_readers_nothing() -> None:
    before = install(None)
    try:
        record = Record("consent", 0, 1, ((TRACEPARENT, f"00-{TRACE}-{CALLER}-01".encode()),))
        with spans_of("consentry.materialise", [record]) as spans:
            assert spans == {}
        assert record_headers() == []
    finally:
        install(before)


def test_a_broken_traceparent_never_stops_a_batch(exported: InMemorySpanExporter) -> None:
    records = [
        Record("consent", 0, 1, ((TRACEPARENT, None),)),  # aiokafka: a null header value
        Record("consent", 0, 2, ((TRACEPARENT, b"\xff not a traceparent"),)),
        Record("consent", 0, 3, ((TRACEPARENT, f"00-{TRACE}-{CALLER}-01".encode()),)),
    ]
    with spans_of("consentry.materialise", records) as spans:
        assert len(spans) == 1, "only the well-formed one"
    assert len(exported.get_finished_spans()) == 1


def test_a_batch_that_raises_ends_its_spans_as_errors(exported: InMemorySpanExporter) -> None:
    record = Record("consent", 0, 1, ((TRACEPARENT, f"00-{TRACE}-{CALLER}-01".encode()),))
    with pytest.raises(ConnectionError), spans_of("consentry.enforce", [record]):
        raise ConnectionError("Redis went away; the batch is tried again")
    [span] = exported.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert [event.name for event in span.events] == ["exception"]


def test_the_exporters_named_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    before = install(None)
    try:
        monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
        assert not configure("consentry-test")
        monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console, none")
        assert configure("consentry-test"), "a list, as the specification has it"
        monkeypatch.setenv("OTEL_TRACES_EXPORTER", "jaeger")
        with pytest.raises(ValueError, match="jaeger"):
            configure("consentry-test")
    finally:
        install(before)

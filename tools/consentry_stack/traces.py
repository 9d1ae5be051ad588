"""The local stack's trace collector: an OTLP/HTTP receiver on loopback that keeps every
span the services export, in memory and as JSON lines (``traces.jsonl`` in the stack's
directory) -- enough to follow one decision by eye, or in a test. A real deployment
points ``OTEL_EXPORTER_OTLP_ENDPOINT`` at its own collector instead."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

_KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


@dataclass(frozen=True, slots=True)
class Span:
    service: str
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_span_id: str | None
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    error: bool
    """Ended with an error status (a handling that raised, to be tried again)."""


def _value(any_value: Any) -> Any:
    field = any_value.WhichOneof("value")
    return None if field is None else getattr(any_value, field)


def spans_of(request: ExportTraceServiceRequest) -> list[Span]:
    found = []
    for resource in request.resource_spans:
        attributes = {a.key: _value(a.value) for a in resource.resource.attributes}
        service = str(attributes.get("service.name", "?"))
        for scope in resource.scope_spans:
            for span in scope.spans:
                found.append(
                    Span(
                        service,
                        span.name,
                        _KINDS.get(span.kind, str(span.kind)),
                        span.trace_id.hex(),
                        span.span_id.hex(),
                        span.parent_span_id.hex() or None,
                        span.start_time_unix_nano,
                        span.end_time_unix_nano,
                        {a.key: _value(a.value) for a in span.attributes},
                        span.status.code == span.status.STATUS_CODE_ERROR,
                    )
                )
    return found


class TraceCollector:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._spans: list[Span] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = ExportTraceServiceRequest()
                try:
                    request.ParseFromString(body)
                except DecodeError:
                    self.send_error(400, "not an OTLP trace export")
                    return
                collector._keep(spans_of(request))
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # one line per export would drown the stack's output

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="trace-collector", daemon=True
        )

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _keep(self, spans: list[Span]) -> None:
        with self._lock:
            self._spans += spans
            with self.path.open("a") as out:
                for span in spans:
                    out.write(json.dumps(asdict(span)) + "\n")

    def trace(self, trace_id: str) -> list[Span]:
        """The spans received so far of one trace, in start order."""
        with self._lock:
            return sorted(
                (s for s in self._spans if s.trace_id == trace_id), key=lambda s: s.start_ns
            )

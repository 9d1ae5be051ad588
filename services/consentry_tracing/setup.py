"""A service's tracer provider, from OpenTelemetry's standard environment variables."""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import ParentBasedTraceIdRatio, Sampler

DEFAULT_RATIO = 0.01
"""Without ``OTEL_TRACES_SAMPLER``: 1 % of requests that arrive without a sampled parent."""

_installed: list[TracerProvider] = []
"""The provider this process traces with (none: tracing is off and costs nothing)."""


def enabled() -> bool:
    """Whether this process traces (``configure`` installed a provider)."""
    return bool(_installed)


def tracer() -> trace.Tracer:
    return _installed[0].get_tracer("consentry") if _installed else trace.get_tracer("consentry")


def install(provider: TracerProvider | None) -> TracerProvider | None:
    """Trace with ``provider`` from now on (``None``: stop); returns the one before. Not
    OpenTelemetry's global provider, which can be set once: tests install their own."""
    before = _installed[0] if _installed else None
    _installed[:] = [] if provider is None else [provider]
    return before


def _sampler() -> Sampler | None:
    if os.environ.get("OTEL_TRACES_SAMPLER"):
        return None  # the SDK reads OTEL_TRACES_SAMPLER and its argument itself
    return ParentBasedTraceIdRatio(DEFAULT_RATIO)


def configure(service: str) -> bool:
    """Install the tracer provider of ``service`` if ``OTEL_TRACES_EXPORTER`` names
    ``otlp`` and/or ``console`` (a comma-separated list, as the specification has it);
    returns whether tracing is on."""
    named = os.environ.get("OTEL_TRACES_EXPORTER", "none").lower().split(",")
    exporters = {name.strip() for name in named} - {"", "none"}
    unknown = exporters - {"otlp", "console"}
    if unknown:
        raise ValueError(f"OTEL_TRACES_EXPORTER names {sorted(unknown)}: otlp, console or none")
    if not exporters:
        return False
    processors: list[SpanProcessor] = []
    if "otlp" in exporters:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        processors.append(BatchSpanProcessor(OTLPSpanExporter()))
    if "console" in exporters:
        processors.append(BatchSpanProcessor(ConsoleSpanExporter()))
    provider = TracerProvider(
        resource=Resource.create({"service.name": service}), sampler=_sampler()
    )
    for processor in processors:
        provider.add_span_processor(processor)
    install(provider)
    return True

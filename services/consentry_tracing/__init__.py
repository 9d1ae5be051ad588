"""Traces across the log: one decision followed from its request, through Kafka, to the
moment the checks enforce it and the change feed carries it (OpenTelemetry).

* ``configure(service)`` at a service's start: off unless ``OTEL_TRACES_EXPORTER`` says
  ``otlp`` (OTLP over HTTP to ``OTEL_EXPORTER_OTLP_ENDPOINT``, the standard variables)
  or ``console``. Sampling is OpenTelemetry's own ``OTEL_TRACES_SAMPLER`` /
  ``OTEL_TRACES_SAMPLER_ARG``; unset, it is ``parentbased_traceidratio`` at 1 %: a
  request carrying a sampled W3C ``traceparent`` is always traced, 1 % of the others are.
* HTTP: ``consentry_http`` adds the ``Traced`` middleware (``consentry_tracing.asgi``)
  when tracing is on: a server span per request, child of the caller's ``traceparent``.
* Kafka: a record written inside a sampled span carries its ``traceparent`` header
  (``record_headers``); the materialiser and the enforcer open a span for each such
  record they handle, its child (``spans_of``), and the change-feed records the
  enforcer publishes for it carry the enforcer's span (``span_headers``), for a
  follower to carry the trace on. Unsampled records carry nothing and cost the readers
  nothing.
"""

from consentry_tracing.records import TRACEPARENT, record_headers, span_headers, spans_of
from consentry_tracing.setup import configure, enabled, install, tracer

__all__ = [
    "TRACEPARENT",
    "configure",
    "enabled",
    "install",
    "record_headers",
    "span_headers",
    "spans_of",
    "tracer",
]

"""The HTTP check service's own metrics (the check counts are the SDK's)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from consentry_auth import AUTH_FAILURE_REASONS

REFUSALS = Counter(
    "consentry_check_http_refusals_total",
    "Check requests refused by authorisation (403), by reason.",
    ["reason"],
)
AUTH_FAILURES = Counter(
    "consentry_check_http_auth_failures_total",
    "Check requests without a valid bearer token (401), by reason.",
    ["reason"],
)
REFUSALS.labels(reason="services_only")
for _reason in AUTH_FAILURE_REASONS:
    AUTH_FAILURES.labels(reason=_reason)

REQUEST_SECONDS = Histogram(
    "consentry_check_http_request_seconds",
    "Server-side time of a request, from its arrival to the end of its response.",
    ["route"],
    buckets=(
        0.0001,
        0.0002,
        0.0003,
        0.0005,
        0.00075,
        0.001,
        0.0015,
        0.002,
        0.003,
        0.005,
        0.0075,
        0.01,
        0.015,
        0.02,
        0.03,
        0.05,
        0.1,
        0.25,
        0.5,
        1.0,
    ),
)
TIMED_ROUTES = {("GET", "/v1/check"): "check", ("POST", "/v1/check"): "batch"}
"""The routes timed, by (method, path); anything else is ``other`` (bounded labels)."""
for _route in ("check", "batch", "other"):
    REQUEST_SECONDS.labels(route=_route)

"""The HTTP check service's own metrics (the check counts are the SDK's)."""

from __future__ import annotations

from prometheus_client import Counter

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

"""The HTTP check service's own metrics (the check counts are the SDK's)."""

from __future__ import annotations

from prometheus_client import Counter

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
for _reason in (
    "missing",
    "malformed",
    "bad_signature",
    "expired",
    "wrong_audience",
    "bad_subject",
):
    AUTH_FAILURES.labels(reason=_reason)

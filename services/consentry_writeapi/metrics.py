"""The write API's metrics, declared once."""

from __future__ import annotations

from typing import Literal, get_args

from prometheus_client import Counter, Histogram

from consentry_auth import AUTH_FAILURE_REASONS
from consentry_events import CATALOGUE, CONSENT_CHANGES, DOWNSTREAM_SYSTEMS, RECEIPTS, TopicSpec

LogName = Literal["consent", "catalogue", "downstream_systems", "receipts"]
"""The topics the write API produces to, as the produce histogram's ``log`` label."""
LOG_TOPICS: dict[LogName, TopicSpec] = {
    "consent": CONSENT_CHANGES,
    "catalogue": CATALOGUE,
    "downstream_systems": DOWNSTREAM_SYSTEMS,
    "receipts": RECEIPTS,
}

REQUESTS = Counter(
    "consentry_write_requests_total",
    "Write API requests by route template and status.",
    ["route", "status"],
)
PRODUCE_SECONDS = Histogram(
    "consentry_write_produce_seconds",
    "Time until Kafka acknowledged an event (acks=all).",
    ["log"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BROKER_ERRORS = Counter(
    "consentry_write_broker_errors_total",
    "Writes that were not acknowledged (by the broker, or not even sent), by outcome.",
    ["outcome"],
)
for _outcome in ("not_written", "unknown"):
    BROKER_ERRORS.labels(outcome=_outcome)
for _log in get_args(LogName):
    PRODUCE_SECONDS.labels(log=_log)
REFUSALS = Counter(
    "consentry_write_refusals_total",
    "Requests refused by authorisation (403), by reason.",
    ["reason"],
)
AUTH_FAILURES = Counter(
    "consentry_write_auth_failures_total",
    "Requests without a valid bearer token (401), by reason.",
    ["reason"],
)
for _reason in (
    "not_a_party",
    "not_own_party",
    "not_delegated",
    "delegation_is_own_act",
    "disclosure_is_own_act",
    "catalogue_only",
    "not_readable",
):
    REFUSALS.labels(reason=_reason)
for _reason in AUTH_FAILURE_REASONS:
    AUTH_FAILURES.labels(reason=_reason)

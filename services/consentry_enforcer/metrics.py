"""The enforcer's metrics, declared once; served on ``metrics_port``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

EVENTS = Counter(
    "consentry_enforcer_events_total",
    "Enforcement events published: a (track, purpose) answer changed, or a new track's "
    "first answer differs from the purpose's default.",
)
BACKLOG = Gauge(
    "consentry_enforcer_backlog_records",
    "Records the materialiser has applied that this worker has not enforced yet, by log.",
    ["log"],
)
FANOUT_REMAINING = Gauge(
    "consentry_enforcer_fanout_remaining_releases",
    "Releases still to resolve in the fan-out of a decision under way on this worker.",
)
RESOLVED = Counter(
    "consentry_enforcer_resolved_total",
    "(track, purpose) answers resolved to find what changed.",
)
RECOVERIES = Counter(
    "consentry_enforcer_store_recoveries_total",
    "Times this worker rebuilt the enforcer's store from Kafka (first start, or a lost store).",
)
RECOVERING = Gauge(
    "consentry_enforcer_store_recovering",
    "1 while this worker rebuilds the enforcer's store from Kafka (enforcement waits).",
)
REFUSED = Counter(
    "consentry_enforcer_events_refused_total",
    "Records of the consent and catalogue logs not validly signed, never enforced, by "
    "reason (unsigned, unknown_key, bad_signature).",
    ["reason"],
)
for _log in ("consent", "catalogue"):
    BACKLOG.labels(log=_log)
for _reason in ("unsigned", "unknown_key", "bad_signature"):
    REFUSED.labels(reason=_reason)

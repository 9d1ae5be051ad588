"""The materialiser's metrics, declared once; served on ``metrics_port``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter(
    "consentry_materialiser_events_total",
    "Log records handled, by log and outcome (applied, duplicate, stale, dead_lettered).",
    ["log", "outcome"],
)
PROPAGATION_SECONDS = Histogram(
    "consentry_materialiser_propagation_seconds",
    "From the write API accepting a consent change to its application in Redis.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
CONSUMER_LAG = Gauge(
    "consentry_materialiser_consumer_lag",
    "Records in the partition not yet applied to Redis (log end minus watermark).",
    ["topic", "partition"],
)
LAST_APPLIED = Gauge(
    "consentry_materialiser_last_applied_timestamp_seconds",
    "When this worker last applied a batch to Redis.",
)
HEARTBEAT = Gauge(
    "consentry_materialiser_heartbeat_timestamp_seconds",
    "When this worker last wrote its heartbeat to Redis.",
)
REFUSED = Counter(
    "consentry_materialiser_events_refused_total",
    "Records of the consent and catalogue logs not validly signed, dead-lettered and never "
    "applied, by log and reason (unsigned, unknown_key, bad_signature).",
    ["log", "reason"],
)

REBUILDS = Counter(
    "consentry_materialiser_rebuilds_total",
    "Times this worker found Redis without the whole log and started replaying it.",
)
REBUILD_SECONDS = Histogram(
    "consentry_materialiser_rebuild_seconds",
    "From noticing a lost (or empty) state to the state being whole again.",
    buckets=(1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
)

for _log in ("consent", "catalogue"):
    for _outcome in ("applied", "duplicate", "stale", "dead_lettered"):
        EVENTS.labels(log=_log, outcome=_outcome)
    for _reason in ("unsigned", "unknown_key", "bad_signature"):
        REFUSED.labels(log=_log, reason=_reason)

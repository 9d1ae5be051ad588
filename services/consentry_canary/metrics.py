"""The canary's metrics, declared once."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PATHS = ("http", "sdk")

LAG_SECONDS = Histogram(
    "consentry_canary_enforcement_lag_seconds",
    "From the canary's write request to the check answering the new choice, by check path.",
    ["path"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
LAST_LAG = Gauge(
    "consentry_canary_last_lag_seconds", "The last cycle's enforcement lag, by path.", ["path"]
)
FAILURES = Counter(
    "consentry_canary_failures_total",
    "Cycles that failed, by where: write (refused), http or sdk (timed out).",
    ["path"],
)
CYCLES = Counter("consentry_canary_cycles_total", "Canary cycles started.")
LAST_SUCCESS = Gauge(
    "consentry_canary_last_success_timestamp_seconds", "When a cycle last succeeded on both paths."
)

for _path in (*PATHS, "write"):
    FAILURES.labels(path=_path)
for _path in PATHS:
    LAG_SECONDS.labels(path=_path)

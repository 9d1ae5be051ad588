"""The Grafana dashboard, generated from one list of panels.

``python -m consentry_stack.dashboard`` writes ``deploy/grafana/dashboards/consentry.json``;
a test keeps the file current, and the live Prometheus test runs every query below.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

PANELS: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "Enforcement lag (write accepted → applied in Redis)",
        "s",
        [
            (
                "p50",
                "histogram_quantile(0.50, sum by (le) "
                "(rate(consentry_materialiser_propagation_seconds_bucket[1m])))",
            ),
            (
                "p99",
                "histogram_quantile(0.99, sum by (le) "
                "(rate(consentry_materialiser_propagation_seconds_bucket[1m])))",
            ),
        ],
    ),
    (
        "Canary: opt-out → check denies, end to end",
        "s",
        [
            ("last {{path}}", "consentry_canary_last_lag_seconds"),
            (
                "p99 {{path}}",
                "histogram_quantile(0.99, sum by (le, path) "
                "(rate(consentry_canary_enforcement_lag_seconds_bucket[5m])))",
            ),
        ],
    ),
    (
        "Consumer lag (records not yet in Redis)",
        "short",
        [
            ("{{topic}}", "sum by (topic) (consentry_materialiser_consumer_lag)"),
        ],
    ),
    (
        "Enforcement backlog (applied, not yet told downstream)",
        "short",
        [
            ("{{log}} records", "sum by (log) (consentry_enforcer_backlog_records)"),
            ("releases left in fan-outs", "sum(consentry_enforcer_fanout_remaining_releases)"),
            ("events/s", "sum(rate(consentry_enforcer_events_total[1m]))"),
        ],
    ),
    (
        "Downstream receipts (changes not yet acknowledged, by system)",
        "short",
        [
            ("{{system}} pending", "sum by (system) (consentry_receipts_pending)"),
            ("{{system}} overdue", "sum by (system) (consentry_receipts_overdue)"),
            (
                "receipts/s {{status}}",
                "sum by (status) (rate(consentry_receipts_received_total[5m]))",
            ),
        ],
    ),
    (
        "Materialiser throughput",
        "ops",
        [
            (
                "{{log}} {{outcome}}",
                "sum by (log, outcome) (rate(consentry_materialiser_events_total[1m]))",
            ),
        ],
    ),
    (
        "Write API requests",
        "reqps",
        [
            (
                "{{route}} {{status}}",
                "sum by (route, status) (rate(consentry_write_requests_total[1m]))",
            ),
            (
                "produce p99",
                "histogram_quantile(0.99, sum by (le) "
                "(rate(consentry_write_produce_seconds_bucket[1m])))",
            ),
        ],
    ),
    (
        "Check latency through Redis",
        "s",
        [
            (
                "p99 {{kind}}",
                "histogram_quantile(0.99, sum by (le, kind) "
                "(rate(consentry_check_redis_seconds_bucket[1m])))",
            ),
        ],
    ),
    (
        "Check answers",
        "reqps",
        [
            ("{{answer}}", "sum by (answer) (rate(consentry_checks_total[1m]))"),
            ("cache hits", "sum(rate(consentry_check_cache_hits_total[1m]))"),
            ("cache invalidations", "sum(rate(consentry_check_cache_invalidations_total[1m]))"),
        ],
    ),
    (
        "Dead letters (10 min)",
        "short",
        [
            (
                "dead-lettered",
                'sum(increase(consentry_materialiser_events_total{outcome="dead_lettered"}[10m]))',
            ),
            (
                "not validly signed: {{reason}}",
                "sum by (reason) (increase(consentry_materialiser_events_refused_total[10m]))",
            ),
        ],
    ),
    (
        "Materialiser heartbeat age seen by checks",
        "s",
        [
            ("age", "max(consentry_check_materialiser_heartbeat_age_seconds)"),
        ],
    ),
    (
        "Refused requests (403 by reason, 401 by token problem)",
        "reqps",
        [
            (
                "write 403 {{reason}}",
                "sum by (reason) (rate(consentry_write_refusals_total[5m]))",
            ),
            (
                "check 403 {{reason}}",
                "sum by (reason) (rate(consentry_check_http_refusals_total[5m]))",
            ),
            (
                "401 {{reason}}",
                "sum by (reason) (rate(consentry_write_auth_failures_total[5m])) + on (reason) "
                "sum by (reason) (rate(consentry_check_http_auth_failures_total[5m]))",
            ),
        ],
    ),
    (
        "Meter: how far behind (age of the report metered last)",
        "s",
        [("behind", "max(consentry_meter_behind_seconds)")],
    ),
    (
        "AI uses metered, by judgement (violations: used while denied)",
        "short",
        [("{{judgement}}", "sum by (judgement) (rate(consentry_meter_uses_total[5m]))")],
    ),
]


def queries() -> list[str]:
    return [expr for _, _, targets in PANELS for _, expr in targets]


def dashboard() -> dict[str, Any]:
    panels = []
    for index, (title, unit, targets) in enumerate(PANELS):
        panels.append(
            {
                "id": index + 1,
                "type": "timeseries",
                "title": title,
                "datasource": {"type": "prometheus", "uid": "prometheus"},
                "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
                "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                "targets": [
                    {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend}
                    for i, (legend, expr) in enumerate(targets)
                ],
            }
        )
    return {
        "uid": "consentry",
        "title": "Consentry: consent enforcement",
        "tags": ["consentry"],
        "timezone": "utc",
        "refresh": "10s",
        "time": {"from": "now-1h", "to": "now"},
        "schemaVersion": 38,
        "panels": panels,
    }


def render() -> str:
    return json.dumps(dashboard(), indent=2) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "deploy/grafana/dashboards/consentry.json")
    target.write_text(render())

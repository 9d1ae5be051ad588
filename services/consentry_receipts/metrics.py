"""The receipts tracker's metrics, declared once; served on ``metrics_port``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from consentry_events import ReceiptStatus

PENDING = Gauge(
    "consentry_receipts_pending",
    "Enforcement changes a downstream system has not acknowledged yet, by system.",
    ["system"],
)
OVERDUE = Gauge(
    "consentry_receipts_overdue",
    "Of those, the ones past the system's deadline: it may still hold tracks it must not.",
    ["system"],
)
RECEIVED = Counter(
    "consentry_receipts_received_total",
    "Receipts read from the receipts topic, by status.",
    ["status"],
)
for _status in ReceiptStatus:
    RECEIVED.labels(status=_status.value)  # 0, not "no data", before the first receipt

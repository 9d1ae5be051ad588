"""The meter's metrics, declared once; served on ``metrics_port``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from consentry_domain.audit import Judgement

USES = Counter(
    "consentry_meter_uses_total",
    "Uses metered, by judgement (allowed, violation, too_late) and purpose.",
    ["judgement", "purpose"],
)
REPEATS = Counter(
    "consentry_meter_repeated_uses_total",
    "Uses whose id the reporter had already reported: counted once, not again.",
)
VIOLATIONS = Counter(
    "consentry_meter_violations_total",
    "Uses of a track at a moment its consent denied the purpose, by purpose and reporter.",
    ["purpose", "reporter"],
)
ATTRIBUTIONS = Counter(
    "consentry_meter_attribution_reports_total", "Attribution reports read from the usage topic."
)
FORGOTTEN = Counter(
    "consentry_meter_use_ids_forgotten_total",
    "Use ids dropped from the seen table: their uses are past the reporting horizon.",
)
BEHIND = Gauge(
    "consentry_meter_behind_seconds",
    "How far behind the meter is: how long ago Kafka accepted the report it metered last.",
)
for _judgement in Judgement:
    USES.labels(judgement=_judgement.value, purpose="ai")

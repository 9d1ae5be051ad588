"""Export the JSON Schema of every event: ``python -m consentry_events.schema DIR``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from consentry_events.disclosure import DisclosureStated
from consentry_events.downstream import DownstreamSystem, EnforcementChanged, ReceiptGiven
from consentry_events.models import (
    ConsentChanged,
    ConsentChangedMany,
    DelegationChanged,
    TrackChanged,
)
from consentry_events.usage import AttributionReported, UsageReported, UseViolated

MODELS: dict[str, type[BaseModel]] = {
    "consent-changed.v1": ConsentChanged,
    "consent-changed-many.v1": ConsentChangedMany,
    "delegation-changed.v1": DelegationChanged,
    "disclosure-stated.v1": DisclosureStated,
    "track-changed.v1": TrackChanged,
    "enforcement-changed.v1": EnforcementChanged,
    "downstream-registered.v1": DownstreamSystem,
    "receipt-given.v1": ReceiptGiven,
    "usage-reported.v1": UsageReported,
    "attribution-reported.v1": AttributionReported,
    "usage-violation.v1": UseViolated,
}


def schemas() -> dict[str, str]:
    return {
        f"{name}.schema.json": json.dumps(model.model_json_schema(), indent=2, sort_keys=True)
        + "\n"
        for name, model in MODELS.items()
    }


def main(argv: list[str]) -> int:
    target = Path(argv[1] if len(argv) > 1 else "events/schemas")
    target.mkdir(parents=True, exist_ok=True)
    for filename, text in schemas().items():
        (target / filename).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

"""Settings of the meter, from ``CONSENTRY_METER_*``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from consentry_domain.purposes import PurposesFile
from consentry_events.topics import METER_GROUP
from consentry_kafka.settings import WorkerSettings, data_dir, group, metrics_port
from consentry_state.where import store_redis

USAGE_HORIZON_S = 35 * 86_400
"""Default: a use reported more than 35 days after it happened is refused (a month's
statement can be settled five days after the month ends)."""


def usage_horizon() -> Any:
    """The ``usage_horizon_s`` field of the services that refuse late reports."""
    return Field(
        default=USAGE_HORIZON_S,
        gt=0,
        description="How long after a use happened it may still be reported; older ones "
        "are refused with that reason.",
    )


class MeterSettings(WorkerSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENTRY_METER_", extra="forbid")

    store_url: str = store_redis(
        "The enforcer's store (user meter): the views of each rights holder's usage and "
        "violations the write API reads.",
    )
    group_id: str = group(METER_GROUP)
    metrics_port: int = metrics_port(9106)
    data_dir: Path = data_dir("meter")
    purposes_file: PurposesFile = None
    usage_horizon_s: float = usage_horizon()

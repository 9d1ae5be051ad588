"""Settings of the materialiser, from ``CONSENTRY_MATERIALISER_*``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from consentry_kafka.settings import WorkerSettings, data_dir, group, metrics_port
from consentry_state.where import state_redis


class MaterialiserSettings(WorkerSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENTRY_MATERIALISER_", extra="forbid")

    redis_url: str = state_redis("Redis primary to write.")
    group_id: str = group("consentry-materialiser")
    metrics_port: int = metrics_port(9102)
    data_dir: Path = data_dir("materialiser")
    batch_max: int = Field(
        default=500,
        ge=1,
        description="Most records applied in one script call (one Redis round trip, during "
        "which the script holds Redis).",
    )
    heartbeat_interval_s: float = Field(default=0.5, gt=0, description="Heartbeat period.")
    log_end_timeout_s: float = Field(
        default=2.0,
        gt=0,
        description="Longest wait for the broker to tell the log's end; no answer, no heartbeat.",
    )

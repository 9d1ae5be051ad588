"""Settings of the materialiser, from ``CONSENTRY_MATERIALISER_*``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from consentry_kafka import KafkaClientSettings


class MaterialiserSettings(KafkaClientSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENTRY_MATERIALISER_", extra="forbid")

    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0", description="Redis primary to write."
    )
    group_id: str = Field(default="consentry-materialiser", description="Kafka consumer group.")
    session_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Kafka group session timeout: how long a dead worker's partitions wait "
        "before another worker takes them over (failover time).",
    )
    redis_timeout_s: float = Field(
        default=5.0,
        gt=0,
        description="Redis socket and connect timeout; a batch that times out is retried.",
    )
    batch_max: int = Field(
        default=500, ge=1, description="Most events applied in one Redis round trip."
    )
    batch_within_s: float = Field(
        default=0.002, gt=0, description="Longest wait to fill a batch (adds to propagation)."
    )
    heartbeat_interval_s: float = Field(default=0.5, gt=0, description="Heartbeat period.")
    log_end_timeout_s: float = Field(
        default=2.0,
        gt=0,
        description="Longest wait for the broker to tell the log's end; no answer, no heartbeat.",
    )
    purposes_file: Path | None = Field(
        default=None, description="Purpose taxonomy (TOML), for enforcement events; demo if unset."
    )
    enforce: bool = Field(
        default=True, description="Publish enforcement events from this worker (one agent more)."
    )
    due_interval_s: float = Field(
        default=1.0, gt=0, description="How often opened/closed decision windows are enforced."
    )
    metrics_host: str = Field(default="127.0.0.1", description="Prometheus endpoint address.")
    metrics_port: int = Field(default=9102, ge=0, le=65535, description="Prometheus endpoint port.")
    data_dir: Path = Field(
        default=Path("/tmp/consentry-materialiser"), description="faust's local data directory."
    )

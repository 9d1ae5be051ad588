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
        default=500,
        ge=1,
        description="Most records applied in one script call (one Redis round trip, during "
        "which the script holds Redis).",
    )
    fetch_max: int = Field(
        default=2000, ge=1, description="Most records taken from Kafka in one fetch."
    )
    heartbeat_interval_s: float = Field(default=0.5, gt=0, description="Heartbeat period.")
    log_end_timeout_s: float = Field(
        default=2.0,
        gt=0,
        description="Longest wait for the broker to tell the log's end; no answer, no heartbeat.",
    )
    metrics_host: str = Field(default="127.0.0.1", description="Prometheus endpoint address.")
    metrics_port: int = Field(default=9102, ge=0, le=65535, description="Prometheus endpoint port.")
    data_dir: Path = Field(
        default=Path("/tmp/consentry-materialiser"), description="faust's local data directory."
    )

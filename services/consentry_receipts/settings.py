"""Settings of the receipts tracker, from ``CONSENTRY_RECEIPTS_*``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from consentry_kafka import KafkaClientSettings

GROUP = "consentry-receipts"


class ReceiptsSettings(KafkaClientSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENTRY_RECEIPTS_", extra="forbid")

    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        description="The consent state (read-only, user enforcer; a replica will do): its "
        "watermarks say when checks began enforcing a decision.",
    )
    store_url: str = Field(
        default="redis://127.0.0.1:6380/0",
        description="The enforcer's store, where the receipts book is kept (user receipts).",
    )
    group_id: str = Field(default=GROUP, description="Kafka consumer group.")
    session_timeout_s: float = Field(
        default=10.0, gt=0, description="Kafka group session timeout (failover time)."
    )
    redis_timeout_s: float = Field(
        default=5.0, gt=0, description="Redis socket and connect timeout; failures are retried."
    )
    watch_interval_s: float = Field(
        default=0.005,
        gt=0,
        description="How often decisions not yet seen applied are looked for in the check "
        "state's watermarks (the precision of 'enforced by checks N ms after').",
    )
    overdue_interval_s: float = Field(
        default=1.0, gt=0, description="How often pending and overdue receipts are counted."
    )
    metrics_host: str = Field(default="127.0.0.1", description="Prometheus endpoint address.")
    metrics_port: int = Field(default=9105, ge=0, le=65535, description="Prometheus endpoint port.")
    data_dir: Path = Field(
        default=Path("/tmp/consentry-receipts"), description="faust's local data directory."
    )

"""Settings of the enforcer, from ``CONSENTRY_ENFORCER_*``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from consentry_kafka import KafkaClientSettings

GROUP = "consentry-enforcer"


class EnforcerSettings(KafkaClientSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENTRY_ENFORCER_", extra="forbid")

    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        description="The consent state (user enforcer, read-only): answers are resolved there. "
        "A read replica will do (records are enforced once its watermarks show them "
        "applied) and keeps these reads off the primary the materialiser writes to.",
    )
    store_url: str = Field(
        default="redis://127.0.0.1:6380/0",
        description="The enforcer's own Redis (index, answers published, windows, fan-outs); "
        "not the check side's.",
    )
    group_id: str = Field(default=GROUP, description="Kafka consumer group.")
    session_timeout_s: float = Field(
        default=10.0, gt=0, description="Kafka group session timeout (failover time)."
    )
    redis_timeout_s: float = Field(
        default=5.0, gt=0, description="Redis socket and connect timeout; failures are retried."
    )
    fetch_max: int = Field(
        default=2000, ge=1, description="Most records taken from Kafka in one fetch."
    )
    chunk: int = Field(
        default=500,
        ge=1,
        description="About how many tracks are resolved per step of a fan-out (whole releases).",
    )
    apply_wait_s: float = Field(
        default=30.0,
        gt=0,
        description="How long to wait for the materialiser to apply a record before trying "
        "the batch again (logged).",
    )
    purposes_file: Path | None = Field(
        default=None, description="Purpose taxonomy (TOML); the demo taxonomy when unset."
    )
    due_interval_s: float = Field(
        default=1.0, gt=0, description="How often opened/closed decision windows are enforced."
    )
    backlog_interval_s: float = Field(
        default=1.0, gt=0, description="How often the enforcement backlog is measured."
    )
    nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="Lower CPU priority (Unix nice) of the worker: where it shares cores with "
        "the materialiser, applying decisions -- what makes checks deny -- comes before "
        "telling downstream about them. 0 keeps the default priority.",
    )
    metrics_host: str = Field(default="127.0.0.1", description="Prometheus endpoint address.")
    metrics_port: int = Field(default=9104, ge=0, le=65535, description="Prometheus endpoint port.")
    data_dir: Path = Field(
        default=Path("/tmp/consentry-enforcer"), description="faust's local data directory."
    )

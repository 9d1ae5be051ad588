"""Settings of the enforcer, from ``CONSENTRY_ENFORCER_*``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from consentry_domain.purposes import PurposesFile
from consentry_kafka.settings import WorkerSettings, data_dir, group, metrics_port
from consentry_state.where import state_redis, store_redis

GROUP = "consentry-enforcer"


class EnforcerSettings(WorkerSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENTRY_ENFORCER_", extra="forbid")

    redis_url: str = state_redis(
        "The consent state (user enforcer, read-only): answers are resolved there. "
        "A read replica will do (records are enforced once its watermarks show them "
        "applied) and keeps these reads off the primary the materialiser writes to.",
    )
    store_url: str = store_redis(
        "The enforcer's own Redis (index, answers published, windows, fan-outs); "
        "not the check side's.",
    )
    group_id: str = group(GROUP)
    metrics_port: int = metrics_port(9104)
    data_dir: Path = data_dir("enforcer")
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
    purposes_file: PurposesFile = None
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

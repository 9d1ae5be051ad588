"""Settings of the receipts tracker, from ``CONSENTRY_RECEIPTS_*``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from consentry_kafka.settings import WorkerSettings, data_dir, group, metrics_port
from consentry_state.where import state_redis, store_redis

GROUP = "consentry-receipts"


class ReceiptsSettings(WorkerSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENTRY_RECEIPTS_", extra="forbid")

    redis_url: str = state_redis(
        "The consent state (read-only, user enforcer; a replica will do): its "
        "watermarks say when checks began enforcing a decision.",
    )
    store_url: str = store_redis(
        "The enforcer's store, where the receipts book is kept (user receipts).",
    )
    group_id: str = group(GROUP)
    metrics_port: int = metrics_port(9105)
    data_dir: Path = data_dir("receipts")
    watch_interval_s: float = Field(
        default=0.005,
        gt=0,
        description="How often decisions not yet seen applied are looked for in the check "
        "state's watermarks (the precision of 'enforced by checks N ms after').",
    )
    overdue_interval_s: float = Field(
        default=1.0, gt=0, description="How often pending and overdue receipts are counted."
    )

"""Settings of the write API, from ``CONSENTRY_WRITE_*``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WriteSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENTRY_WRITE_", extra="forbid")

    kafka_bootstrap: str = Field(default="127.0.0.1:9092", description="Kafka bootstrap servers.")
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        description="Redis (a replica will do), read for a party's current decisions.",
    )
    produce_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="How long to wait for the broker's acks=all; past it the outcome is unknown.",
    )
    purposes_file: Path | None = Field(
        default=None, description="Purpose taxonomy (TOML); the demo taxonomy when unset."
    )
    host: str = Field(default="127.0.0.1", description="Listen address.")
    port: int = Field(default=8701, ge=0, le=65535, description="Listen port.")

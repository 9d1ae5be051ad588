"""Settings of the canary, from ``CONSENTRY_CANARY_*``."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from consentry_kafka.settings import metrics_port
from consentry_state.where import state_redis


class CanarySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENTRY_CANARY_", extra="forbid")

    write_url: str = Field(default="http://127.0.0.1:8701", description="The write API.")
    check_url: str = Field(default="http://127.0.0.1:8702", description="The check service.")
    redis_url: str = state_redis("Redis for the canary's own SDK.")
    party_token: SecretStr = Field(
        description="Bearer token of the canary's own party (writes its decisions)."
    )
    catalogue_token: SecretStr = Field(
        description="Bearer token of a catalogue principal (registers the canary track)."
    )
    check_token: SecretStr = Field(description="Bearer token of a service principal (checks).")
    interval_s: float = Field(default=5.0, gt=0, description="Time between cycles.")
    timeout_s: float = Field(default=30.0, gt=0, description="A cycle slower than this fails.")
    party: str = Field(default="canary:consentry", description="The canary's own party.")
    isrc: str = Field(default="ZZCAN0000001", description="The canary's own track.")
    upc: str = Field(default="000000000001", description="The canary track's release.")
    purpose: str = Field(default="ai.canary", description="The purpose it flips.")
    metrics_host: str = Field(default="127.0.0.1", description="Prometheus endpoint address.")
    metrics_port: int = metrics_port(9103)

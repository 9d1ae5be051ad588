"""Settings of the HTTP check service: the SDK's (``CONSENTRY_CHECK_*``) and its edge."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from consentry_http.limits import RateLimits, limits_field
from consentry_http.settings import PublicKeyFile, limits_url, max_body_bytes
from consentry_kafka import KafkaClientSettings
from consentry_meter.settings import usage_horizon
from consentry_sdk import CheckSettings


class CheckServiceSettings(CheckSettings, KafkaClientSettings):
    """The check side reads Redis only; its Kafka principal (``kafka_*``) may write the
    usage topic and nothing else -- the usage reports AI features send here."""

    model_config = SettingsConfigDict(env_prefix="CONSENTRY_CHECK_", extra="forbid")

    auth_public_key_file: PublicKeyFile
    max_body_bytes: int = max_body_bytes(65_536)
    signals_terms_file: Path | None = Field(
        default=None,
        description="Which purposes each reservation format (TDMRep, Content-Usage, CAWG) "
        "speaks of (TOML, as consentry_signals/default_terms.toml); unset: that file.",
    )
    usage_horizon_s: float = usage_horizon()
    limits_url: str | None = limits_url()
    rate_limits: RateLimits = limits_field({"service": (50_000, 100_000), "admin": (1_000, 5_000)})
    workers: int = Field(
        default=1,
        ge=1,
        description="Server processes (each with metrics of its own: prefer more instances).",
    )

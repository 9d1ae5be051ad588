"""Settings of the write API, from ``CONSENTRY_WRITE_*``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from consentry_domain.purposes import PurposesFile
from consentry_http.limits import RateLimits, limits_field
from consentry_http.settings import PublicKeyFile, limits_url, max_body_bytes
from consentry_kafka import KafkaClientSettings
from consentry_state.where import state_redis, store_redis


class WriteSettings(KafkaClientSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENTRY_WRITE_", extra="forbid")

    redis_url: str = state_redis(
        "The Redis primary (user writeapi): the write API writes chain heads, "
        "write intents, idempotency records and per-party locks there -- never a replica.",
    )
    store_url: str = store_redis(
        "The enforcer's store (user writeapi, read-only): the receipts tracker's "
        "book, for a decision's receipt and the downstream systems' list.",
    )
    produce_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="How long to wait for the broker's acks=all; past it the outcome is unknown.",
    )
    purposes_file: PurposesFile = None
    auth_public_key_file: PublicKeyFile
    event_signing_key_file: Path = Field(
        description="The Ed25519 private key (PEM) that signs every event the write API "
        "writes to the consent and catalogue topics -- its own, not the token key "
        "(``consentry-admin keygen``; readers trust its public half through their "
        "``*_EVENT_KEYS_FILE``)."
    )
    max_body_bytes: int = max_body_bytes(16_384)
    idempotency_ttl_s: int = Field(
        default=86_400, gt=0, description="How long an Idempotency-Key's first answer is kept."
    )
    settle_margin_s: float = Field(
        default=5.0,
        ge=0,
        description="After a write with an unknown outcome, how long past the produce timeout "
        "to wait before reading the log to find out whether it landed.",
    )
    import_compare_wait_s: float = Field(
        default=5.0,
        ge=0,
        description="How long a catalogue import waits for the state to catch up with the "
        "catalogue log before comparing; past it every valid track is written again.",
    )
    ern_parties_file: Path | None = Field(
        default=None,
        description="ERN imports: a TOML [parties] table naming delivered parties' ids "
        "(isni:/dpid:/proprietary:/name: -> party id); unset: ids made from the delivery.",
    )
    limits_url: str | None = limits_url()
    rate_limits: RateLimits = limits_field(
        {
            "party": (200, 1_000),
            "service": (200, 1_000),
            "catalogue": (2_000, 10_000),
            "system": (1_000, 5_000),
            "admin": (1_000, 5_000),
        }
    )
    host: str = Field(default="127.0.0.1", description="Listen address.")
    port: int = Field(default=8701, ge=0, le=65535, description="Listen port.")

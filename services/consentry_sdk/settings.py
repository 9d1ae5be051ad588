"""Settings of the check side (SDK and HTTP check service), from ``CONSENTRY_CHECK_*``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from consentry_domain.purposes import PurposesFile
from consentry_state.where import state_redis


class CheckSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENTRY_CHECK_", extra="forbid")

    redis_url: str = state_redis(
        "Redis (or a read replica) holding the state.",
    )
    redis_timeout_s: float = Field(
        default=0.5, gt=0, description="Socket timeout; past it the check answers unverifiable."
    )
    redis_connections: int = Field(
        default=32,
        ge=1,
        description="Most Redis connections; more checks in flight wait for one (concurrent "
        "single checks are read together anyway).",
    )
    purposes_file: PurposesFile = None
    heartbeat_bound_s: float = Field(
        default=5.0,
        gt=0,
        description="A materialiser heartbeat older than this makes every answer unverifiable.",
    )
    cache_bound_s: float = Field(
        default=1.0,
        ge=0,
        description="Hard bound on a cached answer's age; 0 turns the in-process cache off.",
    )
    token_wait_s: float = Field(
        default=2.0,
        gt=0,
        description="How long a check with a consistency token waits before answering pending.",
    )
    host: str = Field(default="127.0.0.1", description="HTTP check service: listen address.")
    port: int = Field(default=8702, ge=0, le=65535, description="HTTP check service: listen port.")

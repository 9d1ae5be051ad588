"""Settings of the portal, from ``CONSENTRY_PORTAL_*``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from consentry_domain.purposes import PurposesFile
from consentry_http.limits import RateLimits, limits_field
from consentry_http.settings import limits_url
from consentry_state.where import store_redis


class PortalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENTRY_PORTAL_", extra="forbid")

    write_url: str = Field(default="http://127.0.0.1:8701", description="The write API.")
    check_url: str = Field(default="http://127.0.0.1:8702", description="The check service.")
    check_token: SecretStr | None = Field(
        default=None,
        description="The portal's own service:<id> token for the check service (answers shown "
        "on the pages, and the receipt's measured enforcement).",
    )
    check_token_file: Path | None = Field(
        default=None, description="Or a file holding it (docker-compose: written by keys)."
    )
    store_url: str = store_redis(
        "Where sessions and spent login links are kept (the enforcer's Redis, user portal).",
    )
    auth_public_key_file: Path = Field(
        description="The keys that verify login links (PEM, or a JWKS key set; reloaded)."
    )
    purposes_file: PurposesFile = None
    secure_cookies: bool = Field(
        default=False, description="Mark the session cookie Secure (set it behind TLS)."
    )
    api_timeout_s: float = Field(
        default=15.0, gt=0, description="How long a request to the write API or checks may take."
    )
    enforce_wait_s: float = Field(
        default=5.0, gt=0, description="How long a receipt waits for checks to enforce a change."
    )
    limits_url: str | None = limits_url()
    rate_limits: RateLimits = limits_field({"signin": (5, 20)})
    host: str = Field(default="127.0.0.1", description="Listen address.")
    port: int = Field(default=8703, ge=0, le=65535, description="Listen port.")

    def check_bearer(self) -> str:
        if self.check_token is not None:
            return self.check_token.get_secret_value()
        if self.check_token_file is not None:
            return self.check_token_file.read_text().strip()
        raise ValueError("set CONSENTRY_PORTAL_CHECK_TOKEN or CONSENTRY_PORTAL_CHECK_TOKEN_FILE")

"""Settings both HTTP services have, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

PublicKeyFile = Annotated[
    Path,
    Field(
        description="The keys that verify bearer tokens: one Ed25519 public key (PEM, "
        "`consentry-admin keygen`) or a key set by key id (JWKS, `consentry-admin keys`), "
        "read again within a second of a change: rotate keys without a restart."
    ),
]


def limits_url() -> Any:
    """The ``limits_url`` field: where the rate limits' buckets are."""
    return Field(
        default=None,
        description="The enforcer's store as user limiter, holding every instance's shared "
        "rate-limit buckets (e.g. redis://limiter:…@host:6380/0); unset: no rate limits.",
    )


def max_body_bytes(default: int) -> Any:
    """The ``max_body_bytes`` field of a service whose limit is ``default``."""
    return Field(
        default=default, gt=0, description="Requests with a larger body are refused with 413."
    )

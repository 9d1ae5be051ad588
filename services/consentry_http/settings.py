"""Settings both HTTP services have, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

PublicKeyFile = Annotated[
    Path,
    Field(
        description="Ed25519 public key (PEM) that verifies bearer tokens "
        "(`consentry-admin keygen`)."
    ),
]


def max_body_bytes(default: int) -> Any:
    """The ``max_body_bytes`` field of a service whose limit is ``default``."""
    return Field(
        default=default, gt=0, description="Requests with a larger body are refused with 413."
    )

"""Settings of the HTTP check service: the SDK's (``CONSENTRY_CHECK_*``) and its edge."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from consentry_sdk import CheckSettings


class CheckServiceSettings(CheckSettings):
    auth_public_key_file: Path = Field(
        description="Ed25519 public key (PEM) that verifies bearer tokens "
        "(`consentry-admin keygen`)."
    )
    max_body_bytes: int = Field(
        default=65_536, gt=0, description="Requests with a larger body are refused with 413."
    )
    workers: int = Field(
        default=1,
        ge=1,
        description="Server processes (each with metrics of its own: prefer more instances).",
    )

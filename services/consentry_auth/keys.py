"""Key files: ``private.pem`` (signs tokens, mode 600) and ``public.pem`` (verifies)."""

from __future__ import annotations

import os
from pathlib import Path

from consentry_auth.tokens import generate_keys


def write_keys(directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    private_pem, public_pem = generate_keys()
    private, public = directory / "private.pem", directory / "public.pem"
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(private_pem)
    public.write_bytes(public_pem)
    return private, public

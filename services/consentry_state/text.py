"""What Redis answers, as text: redis-py gives bytes (or str, decoding clients)."""

from __future__ import annotations


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

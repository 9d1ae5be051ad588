"""Fault tests break servers and processes, so each gets Kafka and Redis of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from consentry_stack.stack import Stack


@pytest.fixture
def infra(tmp_path: Path) -> Iterator[Stack]:
    """Kafka and Redis with topics; the test starts the materialisers it needs."""
    stack = Stack(tmp_path / "stack")
    stack.start_infra()
    try:
        yield stack
    finally:
        stack.stop()

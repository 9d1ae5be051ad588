"""Fixtures shared by the integration tests that need a Redis of their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from consentry_stack.redis_server import RedisServer


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis server of the test's own (the SDK's tests stop it to fail closed)."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()

"""Session-wide real servers: one Kafka broker, one Redis, and the services on them.

Everything is started by the project's own launcher (consentry_stack) on free loopback
ports; nothing is mocked and nothing skips for want of a server. Fault tests that must
break a server start dedicated ones instead of touching these.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from consentry_stack.stack import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Kafka, Redis, topics, the write API, one materialiser, the check service, the canary."""
    with Stack(Path(tmp_path_factory.mktemp("stack")), canary_interval_s=2.0).running() as up:
        yield up

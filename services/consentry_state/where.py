"""Where a service finds its two Redis servers, as settings fields: the consent state
(its primary, or a read replica for reads) and the enforcer's store. Each service says
in its own words what it does there (the user it connects as, read or write)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

STATE_URL = "redis://127.0.0.1:6379/0"
STORE_URL = "redis://127.0.0.1:6380/0"


def state_redis(description: str) -> Any:
    """A ``redis_url`` field: the consent state."""
    return Field(default=STATE_URL, description=description)


def store_redis(description: str) -> Any:
    """A ``store_url`` field: the enforcer's store."""
    return Field(default=STORE_URL, description=description)

"""Service settings for the tests that inject network faults: each timeout short enough
that a fault is noticed, and the retry after it answered, within a test's minute rather
than after the services' production defaults."""

from __future__ import annotations

SHORT_TIMEOUTS: dict[str, str] = {
    "CONSENTRY_WRITE_PRODUCE_TIMEOUT_S": "2",
    "CONSENTRY_WRITE_SETTLE_MARGIN_S": "2",
    "CONSENTRY_CHECK_HEARTBEAT_BOUND_S": "2",
    "CONSENTRY_MATERIALISER_REDIS_TIMEOUT_S": "1",
}
"""A produce gives up after 2 s (and settles 2 s later), a materialiser's Redis call after
1 s, and the check side calls its state unverifiable after 2 s without a heartbeat."""

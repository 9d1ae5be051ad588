"""The SDK's usage reporters never hold a check up: a full buffer drops the use and
counts it, at once (consentry_sdk.usage; the sending is tested on the stack)."""

from __future__ import annotations

import asyncio

from consentry_sdk.usage import UsageReporter
from consentry_sdk.usage_sync import SyncUsageReporter

USE = ("GBAYE2600001", "ai.dj", 180, "seconds_played", "ai-dj", "3")


def test_a_full_buffer_is_counted_not_waited_on() -> None:
    async def fill() -> list[bool]:
        reporter = UsageReporter("http://127.0.0.1:9", "t", buffer=3)  # never started
        taken = [reporter.report(*USE) for _ in range(5)]
        assert reporter.tally.dropped == 2
        return taken

    assert asyncio.run(fill()) == [True, True, True, False, False]


def test_the_sync_reporter_drops_and_counts_the_same_way() -> None:
    reporter = SyncUsageReporter("http://127.0.0.1:9", "t", buffer=2)  # never started
    assert [reporter.report(*USE) for _ in range(4)] == [True, True, False, False]
    assert reporter.tally.dropped == 2

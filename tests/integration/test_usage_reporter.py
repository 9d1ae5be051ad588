"""The SDK's usage reporters against the running stack: batches of up to 1,000 posted in
the background, every use counted once, a refused batch counted as such."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

from consentry_sdk.usage import UsageReporter
from consentry_sdk.usage_sync import SyncUsageReporter
from consentry_stack.stack import Stack
from tests.support.http import SERVICE, await_answer, register
from tests.support.ids import new_isrc, new_party, new_upc
from tests.support.usage import MODEL, await_units


def registered(stack: Stack) -> tuple[str, str]:
    artist, isrc = new_party(), new_isrc()
    register(stack, isrc, new_upc(), [artist])
    await_answer(stack, isrc, "ai.training", "allow")
    return artist, isrc


def test_the_async_reporter_sends_every_use_in_batches(stack: Stack) -> None:
    artist, isrc = registered(stack)
    now = datetime.now(UTC)

    async def run() -> UsageReporter:
        reporter = UsageReporter(stack.check_url, stack.token(SERVICE), interval_s=0.2)
        await reporter.start()
        for n in range(2_500):
            assert reporter.report(
                isrc, "ai.training", 1, "training_inclusion", MODEL, "1", use_id=f"a{n}"
            )
        await reporter.aclose()
        return reporter

    reporter = asyncio.run(run())
    assert (reporter.tally.sent, reporter.tally.dropped, reporter.tally.rejected) == (2_500, 0, 0)
    await_units(stack, artist, now, allowed="2500", violations="0")


def test_the_sync_reporter_takes_uses_from_many_threads(stack: Stack) -> None:
    artist, isrc = registered(stack)
    now = datetime.now(UTC)
    with SyncUsageReporter(stack.check_url, stack.token(SERVICE), interval_s=0.2) as reporter:

        def feature(thread: int) -> None:
            for n in range(100):
                reporter.report(
                    isrc,
                    "ai.training",
                    1,
                    "training_inclusion",
                    MODEL,
                    "1",
                    use_id=f"s{thread}-{n}",
                )

        threads = [threading.Thread(target=feature, args=(t,)) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert reporter.tally.sent == 400
    await_units(stack, artist, now, allowed="400", violations="0")


def test_a_refused_batch_is_counted_with_its_reason_not_sent_again(stack: Stack) -> None:
    _, isrc = registered(stack)
    stale = datetime.now(UTC) - timedelta(days=400)
    with SyncUsageReporter(stack.check_url, stack.token(SERVICE), interval_s=0.1) as reporter:
        reporter.report(isrc, "ai.training", 1, "training_inclusion", MODEL, "1", happened_at=stale)
    assert (reporter.tally.sent, reporter.tally.rejected) == (0, 1)
    assert reporter.tally.last_refusal is not None
    assert "too_late" in reporter.tally.last_refusal

"""Issue 7, fault 1: the materialiser killed with SIGKILL mid-stream, then restarted.

A stack of its own (Kafka, Redis, one materialiser), 40,000 changes, two kills at
different points; at the end every slot and track in Redis must equal a clean replay of
the log -- nothing applied twice in effect, nothing skipped -- and every check must give
the replay's answer.
"""

from __future__ import annotations

import asyncio
import signal

from redis.asyncio import Redis

from consentry_domain import ConsentState
from consentry_stack.stack import Stack
from tests.support.history import history
from tests.support.log import Marks, produce
from tests.support.state import applied_fraction, compare, wait_fraction, wait_whole


def test_sigkill_mid_stream_then_restart_equals_a_clean_replay(infra: Stack) -> None:
    replay = ConsentState()
    # Large enough that a worker applying ~50,000 records/s is still mid-stream when
    # it is killed at 30% and at 70%.
    events = history(300, 39_700, seed=11)
    first, second = events[:24_000], events[24_000:]

    async def run() -> None:
        redis = Redis.from_url(infra.redis.url)

        async def killed_at(marks: Marks, fraction: float) -> None:
            """A fresh worker, SIGKILLed once ``fraction`` of ``marks`` is applied."""
            worker = infra.materialiser()
            worker.start()
            await wait_fraction(redis, marks, fraction, timeout_s=60)
            worker.signal(signal.SIGKILL)
            worker.stop()
            assert await applied_fraction(redis, marks) < 1.0, "the kill must land mid-stream"

        try:
            worker = infra.materialiser()
            worker.start()
            await wait_whole(redis, timeout_s=60)  # up, and its group joined, on the empty log
            worker.stop()
            # Written while no worker runs, so the restarted one has a backlog to work
            # through and the kill lands mid-stream however fast it applies.
            marks = await produce(infra, first, replay)
            await killed_at(marks, 0.3)
            more = await produce(infra, second, replay)
            marks = {f: max(marks.get(f, -1), more.get(f, -1)) for f in {*marks, *more}}
            await killed_at(marks, 0.7)
            worker = infra.materialiser()
            worker.start()
            try:
                await wait_fraction(redis, marks, 1.0, timeout_s=90)
                await wait_whole(redis, timeout_s=60)
                await compare(redis, replay)
            finally:
                worker.stop()
        finally:
            await redis.aclose()

    asyncio.run(run())

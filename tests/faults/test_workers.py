"""Issue 7, faults 2 and 7: several workers in one group; a worker killed during a
rebalance; a zombie worker resumed after others took its partitions over.

Either way the final Redis state must equal a clean replay, and a late write from a
zombie must not move any state backwards (the merges are versioned by offset).
"""

from __future__ import annotations

import asyncio
import signal
import time

from redis.asyncio import Redis

from consentry_domain import ConsentState
from consentry_events import Choice, Scope
from consentry_stack.processes import ManagedProcess
from consentry_stack.stack import Stack
from tests.support.events import decision_event
from tests.support.history import history
from tests.support.log import produce
from tests.support.state import compare, wait_fraction, wait_whole

SESSION_TIMEOUT_S = 10.0  # the materialiser's default group session timeout


def workers(infra: Stack, *names: str) -> list[ManagedProcess]:
    started = [infra.materialiser(name) for name in names]
    for worker in started:
        worker.start()
    return started


def test_a_worker_killed_during_a_rebalance_changes_nothing(infra: Stack) -> None:
    replay = ConsentState()
    events = history(300, 3000, seed=23)

    async def run() -> None:
        redis = Redis.from_url(infra.redis.url)
        running = workers(infra, "m1", "m2")
        try:
            await wait_whole(redis, timeout_s=60)
            marks = await produce(infra, events[:1500], replay)
            await wait_fraction(redis, marks, 0.2, timeout_s=60)
            running += workers(infra, "m3")  # a rebalance begins ...
            await asyncio.sleep(1.0)
            running[0].signal(signal.SIGKILL)  # ... and a member dies during it
            running[0].stop()
            more = await produce(infra, events[1500:], replay)
            marks = {f: max(marks.get(f, -1), more.get(f, -1)) for f in {*marks, *more}}
            await wait_fraction(redis, marks, 1.0, timeout_s=90)
            await compare(redis, replay)

            # Propagation resumes within the session timeout after the kill settled.
            party = "artist:after-rebalance"
            started = time.monotonic()
            last = await produce(
                infra,
                [decision_event(party, "ai.training", Choice.DENY, Scope.PARTY)],
                replay,
            )
            await wait_fraction(redis, last, 1.0, timeout_s=SESSION_TIMEOUT_S + 5)
            assert time.monotonic() - started < SESSION_TIMEOUT_S + 5
        finally:
            for worker in running:
                worker.stop()
            await redis.aclose()

    asyncio.run(run())


def test_a_zombie_worker_cannot_move_state_backwards(infra: Stack) -> None:
    replay = ConsentState()
    events = history(200, 2000, seed=31)
    later = history(200, 1500, seed=37)[200:]  # newer decisions on the same tracks

    async def run() -> None:
        redis = Redis.from_url(infra.redis.url)
        zombie, survivor = workers(infra, "zombie", "survivor")
        try:
            await wait_whole(redis, timeout_s=60)
            marks = await produce(infra, events, replay)
            await wait_fraction(redis, marks, 0.3, timeout_s=60)
            zombie.signal(signal.SIGSTOP)  # frozen mid-stream, holding fetched records
            await asyncio.sleep(SESSION_TIMEOUT_S + 3)  # the group gives up on it
            more = await produce(infra, later, replay)
            marks = {f: max(marks.get(f, -1), more.get(f, -1)) for f in {*marks, *more}}
            await wait_fraction(redis, marks, 1.0, timeout_s=90)
            await compare(redis, replay)
            zombie.signal(signal.SIGCONT)  # it wakes up and writes what it held
            await asyncio.sleep(5)
            await compare(redis, replay)
        finally:
            zombie.signal(signal.SIGCONT)
            zombie.stop()
            survivor.stop()
            await redis.aclose()

    asyncio.run(run())

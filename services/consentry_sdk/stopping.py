"""Followers that stop when told: a feed follower runs until SIGINT or SIGTERM.

Cancelling the task is not enough on its own: a cancellation that arrives while a client
library is inside one of its own waits can be lost there (aiokafka suppresses
``CancelledError`` in some internal waits, aio-libs/aiokafka#983), and the follower would
then run on. So the signal also sets an event the follower checks at every item of the
feed -- a checkpoint comes every few seconds even when nothing changes -- and the
process stops at the next item at the latest.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_until_signalled(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run ``main(stop)`` until it returns or a signal sets ``stop`` (and cancels it)."""

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("run it in a task")

        def on_signal() -> None:
            stop.set()
            task.cancel()

        for number in SIGNALS:
            loop.add_signal_handler(number, on_signal)
        try:
            await main(stop)
        except asyncio.CancelledError:
            if not stop.is_set():
                raise
        finally:
            for number in SIGNALS:
                loop.remove_signal_handler(number)

    asyncio.run(runner())

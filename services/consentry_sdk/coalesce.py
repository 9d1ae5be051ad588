"""Concurrent single checks share one read: the SDK's answer to many callers at once.

A service answering thousands of checks a second has many in flight at any moment (the
HTTP check service is one). Each that misses the cache would cost its own Redis round
trip and gather script; instead, the checks for one purpose that arrive in the same
turn of the event loop are read together -- one round trip, one atomic snapshot, the
same answers each would have got alone (resolution is per track). A lone check waits
for nothing more than the rest of the current loop turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from consentry_domain import Answer

Read = Callable[[Sequence[str], str], Awaitable[dict[str, Answer]]]


class Coalescer:
    def __init__(self, read: Read, max_batch: int = 200) -> None:
        self._read = read
        self._max = max_batch
        self._pending: dict[str, list[tuple[str, asyncio.Future[Answer]]]] = {}
        self._running: set[asyncio.Task[None]] = set()

    async def check(self, isrc: str, purpose: str) -> Answer:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Answer] = loop.create_future()
        waiting = self._pending.get(purpose)
        if waiting is None:
            waiting = self._pending[purpose] = []
            loop.call_soon(self._flush, purpose, waiting)
        waiting.append((isrc, future))
        if len(waiting) >= self._max:
            self._flush(purpose, waiting)
        return await future

    def _flush(self, purpose: str, waiting: list[tuple[str, asyncio.Future[Answer]]]) -> None:
        if self._pending.get(purpose) is not waiting:
            return  # flushed already (it was full)
        del self._pending[purpose]
        task = asyncio.ensure_future(self._answer(purpose, waiting))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _answer(
        self, purpose: str, waiting: list[tuple[str, asyncio.Future[Answer]]]
    ) -> None:
        try:
            answers = await self._read(list(dict.fromkeys(isrc for isrc, _ in waiting)), purpose)
        except BaseException as exc:  # every waiting check learns of it
            for _, future in waiting:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for isrc, future in waiting:
            if not future.done():
                future.set_result(answers[isrc])

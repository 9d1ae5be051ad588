"""Waiting for a condition with a deadline: the one way tests wait (never a bare sleep).

``eventually(condition, timeout_s, what)`` calls ``condition`` until it returns a truthy
value and returns that value; past the deadline it fails with ``what`` and the last
value seen. ``eventually_async`` is the same inside an event loop: it sleeps without
blocking the loop, and ``condition`` may be a coroutine function or a plain one.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")


def eventually(
    condition: Callable[[], T | None], timeout_s: float, what: str, poll_s: float = 0.02
) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"not within {timeout_s:g}s: {what} (last: {value!r})"
        time.sleep(poll_s)


@overload
async def eventually_async(
    condition: Callable[[], Awaitable[T | None]], timeout_s: float, what: str, poll_s: float = ...
) -> T: ...


@overload
async def eventually_async(
    condition: Callable[[], T | None], timeout_s: float, what: str, poll_s: float = ...
) -> T: ...


async def eventually_async(
    condition: Callable[[], Any], timeout_s: float, what: str, poll_s: float = 0.02
) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = condition()
        value = await found if inspect.isawaitable(found) else found
        if value:
            return value
        assert time.monotonic() < deadline, f"not within {timeout_s:g}s: {what} (last: {value!r})"
        await asyncio.sleep(poll_s)

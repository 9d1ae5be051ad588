"""Cancellations that redis-py swallowed, honoured.

On Python 3.11 a cancellation that lands just as one of redis-py's read timeouts expires
(``asyncio.timeout`` inside the client) can be eaten: the read returns or raises its own
error and the task carries on, still marked as being cancelled. A loop that awaits Redis
again and again -- a check waiting for its token, the invalidation listener -- would then
outlive the close that cancelled it. Such loops ask ``cancelled()`` after each read.
"""

from __future__ import annotations

import asyncio


def cancelled() -> bool:
    """Whether the current task has been asked to stop (``Task.cancelling``)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def honour_cancellation() -> None:
    """Raise ``CancelledError`` if the current task was cancelled, swallowed or not."""
    if cancelled():
        raise asyncio.CancelledError

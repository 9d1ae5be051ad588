"""The consent check for code without an event loop: ``connect_sync``.

    with connect_sync() as checker:          # settings from CONSENTRY_CHECK_*
        answer = checker.check("GBAYE2400001", "ai.training")
        if not answer.allowed: ...

It gives the async checker's answers because it *is* the async checker (``connect``):
that runs on an event loop in a thread of the sync checker's own, and each check from
any thread is handed to it. Only a cached answer is served in the caller's thread, from
the same cache, invalidated by the same Redis channel. The fail-closed rule is the same:
when consent cannot be verified the answer is the purpose's ``unverifiable`` verdict
(deny), and so it is when the loop does not answer within its bound, has died (a new one
is started for the next check) or is being closed. The answer counts and the cache's
hit counters are plain integers, now written from several threads: a count may be lost
(metrics only; no answer depends on them).

**Threads.** One checker serves any number of threads; there is nothing to lock around.

**Forks.** A data-loader worker forked after the checker started (PyTorch's default on
Linux) inherits a checker whose thread did not survive the fork. Its first check in the
child starts a loop, a Redis pool and a cache of the child's own; nothing of the
parent's connections is used in the child (``os.register_at_fork``). A checker created
in the child, or passed to ``spawn``-started workers as settings, works the same way.
Around a fork, the locks of the check-side metrics the loop thread writes are held, so
that no child inherits one locked by a thread it does not have.

A checker that is never closed is closed when it is collected.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import threading
import weakref
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from consentry_domain import Answer
from consentry_sdk.checker import LISTENER, ConsentChecker, Health, connect
from consentry_sdk.metrics import REDIS_BATCH, REDIS_SINGLE
from consentry_sdk.settings import CheckSettings

T = TypeVar("T")

_LIVE: weakref.WeakSet[SyncConsentChecker] = weakref.WeakSet()
_INHERITED: list[_Loop] = []
"""What a forked child inherited: kept, never used, so that collecting it cannot close
anything the parent still uses."""


class _Unanswered(Exception):
    """The loop did not answer: past the bound, dead, or closing."""


class _Loop:
    """An event loop in a daemon thread, holding one ``connect``-ed async checker."""

    def __init__(self, settings: CheckSettings) -> None:
        self.loop = asyncio.new_event_loop()
        self._stopping: asyncio.Event | None = None
        ready: concurrent.futures.Future[ConsentChecker] = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._run, args=(settings, ready), name="consentry-check", daemon=True
        )
        self._thread.start()
        self.checker = ready.result()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self.loop.is_closed()

    def _run(
        self, settings: CheckSettings, ready: concurrent.futures.Future[ConsentChecker]
    ) -> None:
        try:
            self.loop.run_until_complete(self._serve(settings, ready))
        finally:
            self.loop.close()

    async def _serve(
        self, settings: CheckSettings, ready: concurrent.futures.Future[ConsentChecker]
    ) -> None:
        self._stopping = asyncio.Event()
        try:
            async with connect(settings) as checker:
                ready.set_result(checker)
                await self._stopping.wait()
                # Checks still in flight are cancelled first: their callers answer
                # unverifiable at once, whatever closing the connections takes.
                mine = asyncio.current_task()
                checks = [
                    t for t in asyncio.all_tasks() if t is not mine and t.get_name() != LISTENER
                ]
                for task in checks:
                    task.cancel()
                await asyncio.gather(*checks, return_exceptions=True)
        except Exception as exc:
            if ready.done():
                raise
            ready.set_exception(exc)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout_s: float) -> T:
        try:
            future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        except RuntimeError:  # the loop is closed
            coroutine.close()
            raise _Unanswered from None
        try:
            return future.result(timeout_s)
        except TimeoutError:
            future.cancel()
            raise _Unanswered from None
        except concurrent.futures.CancelledError:
            raise _Unanswered from None

    def stop(self, timeout_s: float = 5.0) -> None:
        stopping = self._stopping
        if stopping is not None and self.alive:
            with contextlib.suppress(RuntimeError):  # closed meanwhile
                self.loop.call_soon_threadsafe(stopping.set)
        self._thread.join(timeout_s)


def _stop(loops: list[_Loop]) -> None:
    while loops:
        loops.pop().stop()


class SyncConsentChecker:
    """``check``, ``check_many`` and ``health`` as the async ``ConsentChecker`` has them."""

    def __init__(self, settings: CheckSettings | None = None) -> None:
        self._settings = settings if settings is not None else CheckSettings()
        # A check the loop has not answered by then answers unverifiable: the Redis
        # timeout twice (a retry's worth), a token's whole wait, and a second of slack.
        self._bound_s = 2 * self._settings.redis_timeout_s + self._settings.token_wait_s + 1.0
        self._lock = threading.Lock()
        self._loops: list[_Loop] = []
        """The running loop (one at most); a list the finaliser can hold without ``self``."""
        self._closed = False
        self._finalizer = weakref.finalize(self, _stop, self._loops)
        _LIVE.add(self)

    def _started(self) -> _Loop:
        loops = self._loops
        if loops and loops[0].alive:
            return loops[0]
        with self._lock:
            if self._closed:
                raise RuntimeError("this checker is closed")
            if not loops or not loops[0].alive:
                _stop(loops)  # a loop that died: its thread is gone, its sockets closed
                loops.append(_Loop(self._settings))
            return loops[0]

    def start(self) -> SyncConsentChecker:
        """Connect now rather than at the first check."""
        self._started()
        return self

    @property
    def checker(self) -> ConsentChecker:
        """The async checker underneath (its cache and answer counts)."""
        return self._started().checker

    def check(self, isrc: str, purpose: str, *, token: str | None = None) -> Answer:
        """May track ``isrc`` be used for ``purpose`` now? (``ConsentChecker.check``)"""
        loop = self._started()
        if token is None:
            cached = loop.checker.cached(isrc, purpose)
            if cached is not None:
                return cached
        try:
            return loop.run(loop.checker.check(isrc, purpose, token=token), self._bound_s)
        except _Unanswered:
            return loop.checker.unverifiable([isrc], purpose)[isrc]

    def check_many(
        self, isrcs: Sequence[str], purpose: str, *, token: str | None = None
    ) -> dict[str, Answer]:
        """Answers for a batch: cache hits, then one Redis round trip for the rest."""
        loop = self._started()
        try:
            return loop.run(loop.checker.check_many(isrcs, purpose, token=token), self._bound_s)
        except _Unanswered:
            return loop.checker.unverifiable(isrcs, purpose)

    def health(self) -> Health:
        """Redis reachable? Materialiser heartbeat within the bound? Cache subscribed?"""
        loop = self._started()
        try:
            return loop.run(loop.checker.health(), self._bound_s)
        except _Unanswered:
            return Health(False, None, False, False)

    def close(self) -> None:
        """Stop the loop thread and close its Redis connections; a check in flight
        answers unverifiable, checks after this raise."""
        with self._lock:
            self._closed = True
        self._finalizer()

    def __enter__(self) -> SyncConsentChecker:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    def _forked(self) -> None:
        # The child has the parent's memory but not its loop thread: forget both (the
        # parent's sockets are left alone, never used here) and start afresh on demand.
        self._lock = threading.Lock()
        _INHERITED.extend(self._loops)
        self._loops.clear()


def _metric_locks() -> list[Any]:
    """The locks of the metric values the loop thread writes (prometheus_client's
    ``MutexValue``: a bucket's count and the sum of each check-side histogram)."""
    values = [
        value
        for histogram in (REDIS_SINGLE, REDIS_BATCH)
        for value in [*getattr(histogram, "_buckets", []), getattr(histogram, "_sum", None)]
    ]
    return [lock for value in values if (lock := getattr(value, "_lock", None)) is not None]


def _before_fork() -> None:
    for lock in _metric_locks():
        lock.acquire()


def _after_fork_in_parent() -> None:
    for lock in _metric_locks():
        lock.release()


def _after_fork_in_child() -> None:
    _after_fork_in_parent()
    for checker in list(_LIVE):
        checker._forked()


os.register_at_fork(
    before=_before_fork,
    after_in_parent=_after_fork_in_parent,
    after_in_child=_after_fork_in_child,
)


def connect_sync(settings: CheckSettings | None = None) -> SyncConsentChecker:
    """A sync checker (settings from ``CONSENTRY_CHECK_*`` when none are given); use it
    as a context manager, or call ``close`` when done."""
    return SyncConsentChecker(settings)

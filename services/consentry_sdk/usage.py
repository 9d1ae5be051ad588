"""Reporting AI uses from the feature that makes them, without slowing its checks.

    reporter = UsageReporter(check_url, token)          # asyncio
    await reporter.start()
    reporter.report("GBAYE2400001", "ai.dj", 180, "seconds_played", "ai-dj", "3")
    ...
    await reporter.aclose()                               # sends what is left

    with SyncUsageReporter(check_url, token) as reporter: # usage_sync: threads, loaders
        reporter.report(...)

``report`` never waits: it appends the use to a bounded buffer and returns True, or,
when the buffer is full, drops it, counts it (``dropped``, and the metric
``consentry_sdk_usage_dropped_total``) and returns False -- a check is never held up
behind usage reporting. A background sender posts up to ``batch`` uses at a time to the
check service's ``POST /v1/usage`` (every ``interval_s``, sooner when a batch is full).
A batch the service could not take (unreachable, 503) is sent again, with the same use
ids, so it counts once; a batch it refused (422: e.g. older than the horizon) is dropped
and counted as ``rejected`` with the reason logged -- it would be refused again.

A forked data-loader worker makes a reporter of its own after the fork (the sender's
thread or task does not survive a fork).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from prometheus_client import Counter

log = logging.getLogger(__name__)

SENT = Counter("consentry_sdk_usage_sent_total", "Uses the check service took (202).")
DROPPED = Counter(
    "consentry_sdk_usage_dropped_total", "Uses dropped because the reporter's buffer was full."
)
REJECTED = Counter(
    "consentry_sdk_usage_rejected_total", "Uses in batches the check service refused (422)."
)
BATCH_MAX = 1_000


@dataclass
class Tally:
    """What a reporter did so far."""

    sent: int = 0
    dropped: int = 0
    rejected: int = 0
    retries: int = 0
    last_refusal: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, count in counts.items():
                setattr(self, name, getattr(self, name) + count)


Raw = tuple[str, str, "float | Decimal", str, str, str, "str | None", "float | datetime"]
"""A use as ``report`` keeps it: nothing is built until the sender takes it."""


def use_json(
    isrc: str,
    purpose: str,
    units: float | Decimal,
    unit_kind: str,
    model: str,
    model_version: str,
    use_id: str | None,
    happened_at: float | datetime,
) -> dict[str, Any]:
    """The use as ``POST /v1/usage`` takes it; a use without an id gets one here, once
    (a batch sent again carries the same ids)."""
    moment = (
        happened_at
        if isinstance(happened_at, datetime)
        else datetime.fromtimestamp(happened_at, UTC)
    )
    return {
        "use_id": use_id or uuid.uuid4().hex,
        "isrc": isrc,
        "purpose": purpose,
        "units": str(units),
        "unit_kind": unit_kind,
        "model": model,
        "model_version": model_version,
        "happened_at": moment.isoformat(),
    }


class _Batches:
    """What both reporters share: the request, and what its answer means."""

    def __init__(self, url: str, token: str, tally: Tally) -> None:
        self.url = url.rstrip("/") + "/v1/usage"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.tally = tally

    def settled(self, uses: Sequence[dict[str, Any]], response: httpx.Response | None) -> bool:
        """Whether the batch is done with (taken, or refused for good)."""
        if response is not None and response.status_code == 202:
            self.tally.add(sent=len(uses))
            SENT.inc(len(uses))
            return True
        if response is not None and response.status_code == 429:
            self.tally.add(retries=1)  # rate limited: the same batch again, later
            return False
        if response is not None and 400 <= response.status_code < 500:
            self.tally.add(rejected=len(uses))
            self.tally.last_refusal = response.text[:500]
            REJECTED.inc(len(uses))
            log.warning("usage batch of %d refused: %s", len(uses), response.text[:500])
            return True
        self.tally.add(retries=1)
        return False

    def next_try(
        self, uses: Sequence[dict[str, Any]], response: httpx.Response | None, attempt: int
    ) -> float | None:
        """After the ``attempt``-th sending of a batch: None when it is done with, else
        how long to wait before sending it again -- a backoff from 0.2 s doubling to
        10 s, or as long as a rate-limited answer's ``Retry-After`` says."""
        if self.settled(uses, response):
            return None
        backoff_s = min(0.2 * 2.0 ** min(attempt, 6), 10.0)
        if response is not None and response.status_code == 429:
            try:
                return max(backoff_s, float(response.headers.get("Retry-After", "1")))
            except ValueError:
                return max(backoff_s, 1.0)
        return backoff_s

    @staticmethod
    def unsent(exc: httpx.HTTPError) -> None:
        """A batch that could not be sent: said, and tried again."""
        log.warning("usage batch not sent, retrying: %s", exc)

    def dropped(self) -> None:
        self.tally.add(dropped=1)
        DROPPED.inc()


class BufferedReporter:
    """What both reporters share: settings, the tally, the buffer and ``report``.

    ``report`` appends a tuple to a deque (no JSON, no id, no clock formatting: the
    sender builds those) and wakes the sender only when a batch is full."""

    def __init__(
        self,
        check_url: str,
        token: str,
        *,
        batch: int = BATCH_MAX,
        interval_s: float = 1.0,
        buffer: int = 100_000,
        timeout_s: float = 10.0,
    ) -> None:
        self.tally = Tally()
        self._batches = _Batches(check_url, token, self.tally)
        self._batch = min(batch, BATCH_MAX)
        self._interval_s = interval_s
        self._timeout_s = timeout_s
        self._buffer = buffer
        self._pending: deque[Raw] = deque()
        self._in_flight = 0

    def _wake(self) -> None:
        raise NotImplementedError

    def report(
        self,
        isrc: str,
        purpose: str,
        units: float | Decimal,
        unit_kind: str,
        model: str,
        model_version: str,
        *,
        use_id: str | None = None,
        happened_at: datetime | None = None,
    ) -> bool:
        """Queue one use; False (and counted) when the buffer is full."""
        pending = self._pending
        if len(pending) >= self._buffer:
            self._batches.dropped()
            return False
        moment = happened_at or time.time()
        pending.append((isrc, purpose, units, unit_kind, model, model_version, use_id, moment))
        if len(pending) >= self._batch:
            self._wake()
        return True

    def _take(self) -> list[dict[str, Any]]:
        """Up to a batch of the oldest uses, as JSON (counted in flight until settled)."""
        uses: list[dict[str, Any]] = []
        while self._pending and len(uses) < self._batch:
            uses.append(use_json(*self._pending.popleft()))
        self._in_flight = len(uses)
        return uses

    @property
    def unsent(self) -> int:
        return len(self._pending) + self._in_flight


class UsageReporter(BufferedReporter):
    """The asyncio reporter (see the module); ``report`` from the event loop's thread."""

    def __init__(self, check_url: str, token: str, **options: Any) -> None:
        super().__init__(check_url, token, **options)
        self._wakeup = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None

    def _wake(self) -> None:
        self._wakeup.set()

    async def start(self) -> None:
        self._sender = asyncio.create_task(self._send_forever())

    async def flush(self, timeout_s: float = 30.0) -> None:
        """Until every queued use is sent or refused (for up to ``timeout_s``)."""
        self._wake()
        deadline = time.monotonic() + timeout_s
        while self.unsent and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    async def aclose(self, timeout_s: float = 30.0) -> None:
        """Send what is queued (for up to ``timeout_s``: the rest is left unsent and
        logged), then stop."""
        if self._sender is not None:
            await self.flush(timeout_s)
            if self.unsent:
                log.warning("%d uses left unsent at close", self.unsent)
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender

    async def _send_forever(self) -> None:
        async with httpx.AsyncClient(timeout=self._timeout_s) as client:
            while True:
                if len(self._pending) < self._batch:
                    self._wakeup.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self._interval_s):
                            await self._wakeup.wait()
                while self._pending:
                    await self._post(client, self._take())
                    self._in_flight = 0

    async def _post(self, client: httpx.AsyncClient, uses: list[dict[str, Any]]) -> None:
        attempt = 0
        while (
            pause := self._batches.next_try(uses, await self._send(client, uses), attempt)
        ) is not None:
            await asyncio.sleep(pause)
            attempt += 1

    async def _send(
        self, client: httpx.AsyncClient, uses: list[dict[str, Any]]
    ) -> httpx.Response | None:
        try:
            return await client.post(
                self._batches.url, json={"uses": uses}, headers=self._batches.headers
            )
        except httpx.HTTPError as exc:
            return self._batches.unsent(exc)

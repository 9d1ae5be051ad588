"""The receipts tracker's faust app: a consumer group of its own over the change feed,
the receipts, the registered downstream systems and the consent log.

* a downstream system's registration is kept (they are read ahead of anything else in a
  fetch); it owes a receipt for each change of its purposes published after it was
  registered, due ``deadline_s`` after the change was published;
* a change on the feed is counted for its decision and, per system that owes it, kept
  pending until the receipt; a receipt that comes first is kept aside until its change;
* a decision on the consent log is indexed by id and watched until the check state's
  watermark shows it applied: from then on checks enforce it;
* on a timer, each system's pending and overdue receipts are counted for Prometheus.

Everything is applied before the fetch is acknowledged, idempotently (a redelivered
fetch changes nothing): ``consentry_state.receipts``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

import faust
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from consentry_domain.receipts import Terms, owed
from consentry_events import (
    CONSENT_CHANGES,
    DOWNSTREAM_SYSTEMS,
    ENFORCEMENT,
    RECEIPTS,
    ConsentChanged,
    ConsentChangedMany,
    DecodeError,
    DownstreamSystem,
    EnforcementChanged,
    ReceiptGiven,
)
from consentry_kafka import LogRecord
from consentry_kafka.batches import log_records, worker_app
from consentry_kafka.signatures import EventVerifier
from consentry_receipts import metrics
from consentry_receipts.settings import ReceiptsSettings
from consentry_state import LogProgress
from consentry_state.receipts import DecisionPlace, ReceiptBook, cause_of

log = logging.getLogger(__name__)

NO_CAUSE = "none"
"""The decision key of changes no record caused (a window opened, a sweep after a loss)."""


def _ms(moment: Any) -> int:
    return int(moment.timestamp() * 1000)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class Tracker:
    """What one fetch means for the book; the systems registered so far in memory."""

    def __init__(self, book: ReceiptBook, trust: EventVerifier) -> None:
        self._book = book
        self._trust = trust
        self.systems: dict[str, DownstreamSystem] = {}

    async def load(self) -> None:
        self.systems = await self._book.systems()

    async def handle(self, records: Sequence[LogRecord]) -> int:
        """Book one fetch; how many decisions it brought to watch."""
        registered: list[DownstreamSystem] = []
        operations: list[str] = []
        decisions: list[tuple[str, DecisionPlace]] = []
        for record in records:
            if record.value is None:
                continue
            try:
                if record.topic == DOWNSTREAM_SYSTEMS.name:
                    system = DownstreamSystem.model_validate_json(record.value)
                    registered.append(system)
                    self.systems[system.name] = system
                elif record.topic == ENFORCEMENT.name:
                    change = EnforcementChanged.model_validate_json(record.value)
                    operations += self._owed(record, change)
                elif record.topic == RECEIPTS.name:
                    receipt = ReceiptGiven.model_validate_json(record.value)
                    metrics.RECEIVED.labels(status=receipt.status.value).inc()
                    operations.append(
                        ReceiptBook.receipt(
                            receipt.system,
                            receipt.change,
                            receipt.status,
                            _ms(receipt.recorded_at),
                            receipt.reason,
                        )
                    )
                elif record.topic == CONSENT_CHANGES.name:
                    event = record.decoded(self._trust).event
                    if isinstance(event, ConsentChanged | ConsentChangedMany):
                        cause = cause_of(record.topic, record.partition, record.offset)
                        place = DecisionPlace(event.party, cause, record.timestamp_ms)
                        decisions.append((str(event.decision_id), place))
            except (ValidationError, DecodeError, ValueError) as exc:
                log.warning(
                    "skipped %s:%d:%d: %s", record.topic, record.partition, record.offset, exc
                )
        await self._book.register(registered)
        await self._book.decisions_seen(decisions, _now_ms())
        await self._book.note(operations)
        return len(decisions)

    def _owed(self, record: LogRecord, change: EnforcementChanged) -> list[str]:
        """The book's operations for a change on the feed: it was published, and each
        system that owes its receipt (``consentry_domain.receipts.owed``) waits for it."""
        cause = change.cause
        by = NO_CAUSE if cause is None else cause_of(cause.topic, cause.partition, cause.offset)
        place = f"{record.partition}:{record.offset}"
        published = ReceiptBook.published(
            by, record.partition, record.offset, _ms(change.decided_at)
        )
        terms = (
            Terms(s.name, s.purposes, s.recorded_at, s.deadline_s) for s in self.systems.values()
        )
        return [published] + [
            ReceiptBook.change(o.system, place, by, o.due_ms)
            for o in owed(terms, change.purpose, change.decided_at)
        ]


def create_app(settings: ReceiptsSettings) -> faust.App:
    app = worker_app(settings)
    source = app.topic(
        DOWNSTREAM_SYSTEMS.name,
        ENFORCEMENT.name,
        RECEIPTS.name,
        CONSENT_CHANGES.name,
        key_type=bytes,
        value_type=bytes,
    )

    def redis(url: str) -> Redis:
        timeout = settings.redis_timeout_s
        return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)

    book = ReceiptBook(redis(settings.store_url))
    progress = LogProgress(redis(settings.redis_url))
    tracker = Tracker(book, settings.event_verifier())
    loaded = asyncio.Event()
    noted = asyncio.Event()
    """Set when a fetch brought decisions to watch: the watch polls only while it has some."""

    async def handle(messages: Sequence[Any]) -> None:
        """One fetch into the book, then acked: a crash before the end redelivers it."""
        records = log_records(messages)
        delay_s = 0.1
        while True:
            try:
                if not loaded.is_set():
                    await tracker.load()
                    loaded.set()
                if await tracker.handle(records):
                    noted.set()
                break
            except (RedisError, OSError) as exc:
                log.warning("receipts postponed, retrying in %.1fs: %s", delay_s, exc)
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, 2.0)
        for message in messages:
            app.consumer.ack(message)

    app.deliver_batches(source, handle, first=[DOWNSTREAM_SYSTEMS.name])

    @app.task  # type: ignore[untyped-decorator]  # faust ships no types
    async def watch() -> None:
        """Decisions not yet seen applied: looked for in the watermarks until they are."""
        while True:
            await asyncio.sleep(settings.watch_interval_s)
            try:
                noted.clear()  # before the read: a decision noted after it sets it again
                watched = await book.watched()
                if not watched:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(noted.wait(), timeout=1.0)
                    continue
                places = {c: c.rsplit(":", 2) for c in watched}
                applied = await progress.applied((t, int(p)) for t, p, _ in places.values())
                now = _now_ms()
                await book.enforced(
                    [
                        (cause, now)
                        for cause, (t, p, o) in places.items()
                        if applied[(t, int(p))] >= int(o)
                    ]
                )
            except (RedisError, OSError) as exc:
                log.warning("decision watch postponed: %s", exc)
                await asyncio.sleep(1.0)

    @app.timer(interval=settings.overdue_interval_s)  # type: ignore[untyped-decorator]  # faust ships no types
    async def overdue() -> None:
        try:
            counts = await book.overdue(sorted(tracker.systems), _now_ms())
        except (RedisError, OSError) as exc:
            log.warning("overdue receipts not counted: %s", exc)
            return
        for system, (pending, late) in counts.items():
            metrics.PENDING.labels(system=system).set(pending)
            metrics.OVERDUE.labels(system=system).set(late)

    return app

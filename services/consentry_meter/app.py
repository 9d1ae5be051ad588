"""The meter's faust app: a consumer group of its own over the usage topic.

Each fetch of usage reports, in the order of its partitions (one reporter's reports are
one partition's, in order), is metered as a whole (``counting.Meter``):

1. the consent and catalogue logs are read up to their ends (``History.catch_up``), so
   every record accepted before the uses happened is known;
2. each use id the reporter already sent in an earlier report is skipped (the ``seen``
   table: ``<reporter>|<use id>`` -> the offset of the report that first carried it);
3. the uses are judged against the consent in force at their moments
   (``consentry_domain.audit``) and counted (``consentry_domain.metering``) in the
   ``units`` table: per track and per rights holder, purpose, model, unit kind,
   judgement and period (UTC day and month), each counter changed exactly once per
   report however often the report is processed;
4. then, before the fetch is acknowledged: the tables' changes are in their changelog
   topics, the violations on the violations topic, each affected holder's counters and
   violations in the views the write API reads (``consentry_state.UsageViews``).

Both tables are faust tables with compacted changelog topics: a worker that restarts,
or takes over another's partitions, rebuilds them from there exactly. Attribution
reports are counted here and read from the usage topic when a statement is settled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import faust
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from consentry_domain import load_taxonomy
from consentry_events import USAGE, VIOLATIONS, AttributionReported, UseViolated
from consentry_events.topics import METER_CHANGELOGS, METER_TABLES
from consentry_events.usage import read_usage
from consentry_kafka import KafkaConnection
from consentry_kafka.batches import worker_app
from consentry_kafka.produce import send_keyed, start_producer
from consentry_kafka.tables import PartitionTable
from consentry_meter import metrics
from consentry_meter.counting import Counted, Meter, Report
from consentry_meter.history import History
from consentry_meter.settings import MeterSettings
from consentry_state import UsageViews

log = logging.getLogger(__name__)


class MeterLog:
    """The meter's producer (acks=all, idempotent): its tables' changelogs and the
    violations topic. Each send is retried until the broker has it, so what a fetch
    changed is in the log before the fetch is acknowledged; a crash can repeat a
    violation (same reporter and use id: a reader keeps one) but never lose one."""

    def __init__(self, kafka: KafkaConnection) -> None:
        self._kafka = kafka
        self._producer: AIOKafkaProducer | None = None

    async def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(
                **self._kafka.client_args(),
                acks="all",
                enable_idempotence=True,
                client_id="consentry-meter",
            )
            self._producer = await start_producer(producer)
        return self._producer

    async def flush(self, tables: Sequence[PartitionTable]) -> None:
        async def send() -> None:
            for table in tables:
                await table.flush(await self._started())

        await _retried(send, (KafkaError,), "table changes")

    async def publish(self, found: Sequence[UseViolated]) -> None:
        if not found:
            return
        records = [(v.use.isrc.encode(), v.model_dump_json().encode()) for v in found]

        async def send() -> None:
            await send_keyed(await self._started(), VIOLATIONS.name, records)

        await _retried(send, (KafkaError,), "violations")


async def _retried(
    write: Callable[[], Awaitable[None]], errors: tuple[type[Exception], ...], what: str
) -> None:
    delay_s = 0.1
    while True:
        try:
            await write()
            return
        except errors as exc:
            log.warning("%s postponed, retrying in %.1fs: %s", what, delay_s, exc)
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, 2.0)


def _reports(messages: Sequence[Any]) -> list[Report]:
    """The fetch's usage reports; attribution reports counted, anything else skipped
    with a warning (the HTTP route validated what it wrote)."""
    reports: list[Report] = []
    for message in messages:
        try:
            event = read_usage(message.value or b"")
        except ValidationError as exc:
            log.warning("skipped usage record %d:%d: %s", message.partition, message.offset, exc)
            continue
        if isinstance(event, AttributionReported):
            metrics.ATTRIBUTIONS.inc()
            continue
        at_ms = int(message.timestamp * 1000)
        reports.append(Report(message.partition, message.offset, at_ms, event))
    return reports


def create_app(settings: MeterSettings) -> faust.App:
    app = worker_app(settings)
    units, seen = (
        PartitionTable(
            app.Table(
                name, default=None, partitions=USAGE.partitions, key_type=str, value_type=str
            ),
            changelog.name,
        )
        for name, changelog in zip(METER_TABLES, METER_CHANGELOGS, strict=True)
    )
    store = Redis.from_url(
        settings.store_url,
        socket_timeout=settings.redis_timeout_s,
        socket_connect_timeout=settings.redis_timeout_s,
    )
    views = UsageViews(store)
    meter_log = MeterLog(settings.kafka())
    meter = Meter(
        History(settings.kafka()),
        load_taxonomy(settings.purposes_file),
        int(settings.usage_horizon_s * 1000),
        units,
        seen,
    )

    async def handle(messages: Sequence[Any]) -> None:
        """One fetch metered, its changes durable, then acked: a crash before the end
        meters it again, which changes nothing."""
        metrics.BEHIND.set(max(0.0, time.time() - messages[-1].timestamp))
        counted: Counted = await meter.count(_reports(messages))
        await meter_log.flush([units, seen])
        await meter_log.publish(counted.violations)
        holders = [
            (party, f"{v.reporter}|{v.use.use_id}", v.model_dump_json())
            for v in counted.violations
            for party in v.parties
        ]
        await _retried(
            lambda: views.write(counted.counters, holders), (RedisError, OSError), "usage views"
        )
        for message in messages:
            app.consumer.ack(message)

    app.deliver_batches(app.topic(USAGE.name, key_type=bytes, value_type=bytes), handle)
    return app

"""The meter's faust app: a consumer group of its own over the usage topic.

For each usage report, in the order of its partition (one reporter's reports are one
partition's, in order):

1. the consent and catalogue logs are read up to their ends (``History.catch_up``), so
   every record accepted before the uses happened is known;
2. each use id the reporter already sent in an earlier report is skipped (the ``seen``
   table: ``<reporter>|<use id>`` -> the offset of the report that first carried it);
3. the uses are judged against the consent in force at their moments
   (``consentry_domain.audit``) and tallied (``consentry_domain.metering``) into the
   ``units`` table: per track and per rights holder, purpose, model, unit kind,
   judgement and period (UTC day and month), each counter changed exactly once per
   report however often the report is processed;
4. violations go to the violations topic, and each affected holder's counters and
   violations to the views the write API reads (``consentry_state.UsageViews``).

Both tables are faust tables with compacted changelog topics: a worker that restarts,
or takes over another's partitions, rebuilds them from there exactly. A table key
written from a report of partition ``p`` carries ``p``, so no two partitions' changelogs
hold the same key. Attribution reports are counted here and read from the usage topic
when a statement is settled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import faust
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from consentry_domain import load_taxonomy
from consentry_domain.audit import Judged, Judgement, Use, judge
from consentry_domain.metering import Counter, counted, is_repeat, tally, units_of
from consentry_domain.purposes import Taxonomy
from consentry_events import (
    USAGE,
    VIOLATIONS,
    AttributionReported,
    UsageReported,
    UseViolated,
)
from consentry_events.topics import METER_TABLES
from consentry_events.usage import Use as ReportedUse
from consentry_events.usage import read_usage
from consentry_kafka import KafkaConnection
from consentry_kafka.batches import worker_app
from consentry_kafka.produce import send_keyed
from consentry_kafka.tables import PartitionTable
from consentry_meter import metrics
from consentry_meter.history import History
from consentry_meter.settings import MeterSettings
from consentry_state import UsageViews

log = logging.getLogger(__name__)

Tables = dict[str, Any]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _uses(
    report: UsageReported, partition: int, offset: int, reported_ms: int, seen: PartitionTable
) -> list[Use]:
    """The report's uses not already counted from an earlier report (and each use id of
    the report once); the others are counted as repeats."""
    fresh: list[Use] = []
    taken: set[str] = set()
    for use in report.uses:
        key = f"{report.reporter}|{use.use_id}"
        first = seen.get(key)
        if key in taken or is_repeat(None if first is None else int(first), offset):
            metrics.REPEATS.inc()
            continue
        taken.add(key)
        if first is None:
            seen.set(partition, key, str(offset))
        fresh.append(
            Use(
                key,
                use.isrc,
                use.purpose,
                use.units,
                use.unit_kind,
                use.model,
                _ms(use.happened_at),
                reported_ms,
            )
        )
    return fresh


def _violations(report: UsageReported, judged: Sequence[Judged]) -> list[UseViolated]:
    """The violations among the judged uses, as events (with the uses as reported)."""
    reported = {f"{report.reporter}|{u.use_id}": u for u in report.uses}
    now = datetime.now(UTC)
    return [
        _violation(report, reported[j.use.use_id], j, now)
        for j in judged
        if j.judgement is Judgement.VIOLATION
    ]


def _violation(
    report: UsageReported, reported: ReportedUse, judged: Judged, at: datetime
) -> UseViolated:
    use = judged.use
    assert judged.answer is not None
    return UseViolated(
        reporter=report.reporter,
        report_id=report.report_id,
        use=reported,
        parties=use.parties,
        reasons=tuple(r.describe() for r in judged.answer.reasons),
        judged_at=at,
    )


class Meter:
    """One report at a time into the tables, the violations topic and the views."""

    def __init__(
        self,
        history: History,
        taxonomy: Taxonomy,
        horizon_ms: int,
        tables: Tables,
        views: UsageViews,
    ) -> None:
        self._history = history
        self._taxonomy = taxonomy
        self._horizon_ms = horizon_ms
        self._units = PartitionTable(tables["units"])
        self._seen = PartitionTable(tables["seen"])
        self._views = views

    async def meter(
        self, report: UsageReported, partition: int, offset: int, reported_ms: int
    ) -> list[UseViolated]:
        """Count the report; the violations it found (for the topic)."""
        await self._history.catch_up()
        fresh = _uses(report, partition, offset, reported_ms, self._seen)
        records = self._history.relevant({use.isrc for use in fresh})
        judged = judge(
            records, fresh, self._taxonomy, now_ms=reported_ms, horizon_ms=self._horizon_ms
        )
        counters: list[tuple[str, str, int, Any]] = []
        for counter, change in sorted(tally(judged).items()):
            key = f"{counter}|{partition}"
            value = counted(self._units.get(key), change, offset)
            if value is not None:
                self._units.set(partition, key, value)
            parsed = Counter.parse(counter)
            if parsed.level == "p":
                now_units = units_of(self._units.get(key) or "0@-1")
                counters.append((parsed.subject, counter, partition, now_units))
        found = _violations(report, judged)
        for judged_use in judged:
            metrics.USES.labels(
                judgement=judged_use.judgement.value, purpose=judged_use.use.purpose
            ).inc()
        for violation in found:
            metrics.VIOLATIONS.labels(
                purpose=violation.use.purpose, reporter=violation.reporter
            ).inc()
        seen = [
            (party, f"{v.reporter}|{v.use.use_id}", v.model_dump_json())
            for v in found
            for party in v.parties
        ]
        await _retried(lambda: self._views.write(counters, seen))
        return found


class ViolationLog:
    """The violations topic's producer (acks=all, idempotent). A report's violations are
    in the log before the report is acknowledged, so a crash can repeat them (same
    reporter and use id: a reader keeps one) but never lose one."""

    def __init__(self, kafka: KafkaConnection) -> None:
        self._kafka = kafka
        self._producer: AIOKafkaProducer | None = None

    async def publish(self, found: Sequence[UseViolated]) -> None:
        if not found:
            return
        records = [(v.use.isrc.encode(), v.model_dump_json().encode()) for v in found]
        delay_s = 0.1
        while True:
            try:
                if self._producer is None:
                    self._producer = await _producer(self._kafka)
                await send_keyed(self._producer, VIOLATIONS.name, records)
                return
            except KafkaError as exc:
                log.warning("violations postponed, retrying in %.1fs: %s", delay_s, exc)
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, 2.0)


async def _producer(kafka: KafkaConnection) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(
        **kafka.client_args(), acks="all", enable_idempotence=True, client_id="consentry-meter"
    )
    try:
        await producer.start()
    except KafkaError:
        await producer.stop()
        raise
    return producer


async def _retried(write: Any) -> None:
    delay_s = 0.1
    while True:
        try:
            await write()
            return
        except (RedisError, OSError) as exc:
            log.warning("usage views postponed, retrying in %.1fs: %s", delay_s, exc)
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, 2.0)


def create_app(settings: MeterSettings) -> faust.App:
    app = worker_app(settings)
    tables: Tables = {
        name: app.Table(
            name,
            default=None,
            partitions=USAGE.partitions,
            key_type=str,
            value_type=str,
        )
        for name in METER_TABLES
    }
    reports = app.topic(USAGE.name, key_type=bytes, value_type=bytes)
    violations = ViolationLog(settings.kafka())
    history = History(settings.kafka())
    store = Redis.from_url(
        settings.store_url,
        socket_timeout=settings.redis_timeout_s,
        socket_connect_timeout=settings.redis_timeout_s,
    )
    meter = Meter(
        history,
        load_taxonomy(settings.purposes_file),
        int(settings.usage_horizon_s * 1000),
        tables,
        UsageViews(store),
    )

    async def handle(messages: Sequence[Any]) -> None:
        """One fetch of reports, each metered in its partition's order, then acked: a
        crash before the end meters them again, which changes nothing."""
        for message in messages:
            metrics.BEHIND.set(max(0.0, time.time() - message.timestamp))
            await violations.publish(await _metered(meter, message, message.value))
        for message in messages:
            app.consumer.ack(message)

    app.deliver_batches(reports, handle)

    return app


async def _metered(meter: Meter, message: Any, value: bytes | None) -> Sequence[UseViolated]:
    """A record of the usage topic metered: a usage report counted, an attribution
    report noted, anything else skipped with a warning (the HTTP route validated it)."""
    try:
        report = read_usage(value or b"")
    except ValidationError as exc:
        log.warning("skipped usage record %d:%d: %s", message.partition, message.offset, exc)
        return ()
    if isinstance(report, AttributionReported):
        metrics.ATTRIBUTIONS.inc()
        return ()
    reported_ms = int(message.timestamp * 1000)
    return await meter.meter(report, message.partition, message.offset, reported_ms)

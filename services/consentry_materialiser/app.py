"""The faust app: every fetch of the consent and catalogue topics applied to Redis in
batches, a heartbeat (each partition's freshness), and the rebuild watch.

Enforcement events are computed elsewhere (``consentry_enforcer``, a consumer group of
its own), so applying the log never waits for them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import faust
from aiokafka.errors import KafkaError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from consentry_events import CATALOGUE, CONSENT_CHANGES, DEAD_LETTER
from consentry_kafka import LogEnds, LogRecord
from consentry_kafka.batches import log_records, worker_app
from consentry_materialiser import metrics
from consentry_materialiser.apply import apply_batch
from consentry_materialiser.rebuild import Rebuilder
from consentry_materialiser.settings import MaterialiserSettings
from consentry_state import LogProgress, StateWriter

log = logging.getLogger(__name__)


def create_app(settings: MaterialiserSettings) -> faust.App:
    app = worker_app(settings, producer_acks=-1, broker_max_poll_records=settings.fetch_max)
    source = app.topic(CONSENT_CHANGES.name, CATALOGUE.name, key_type=bytes, value_type=bytes)
    dead_letters = app.topic(DEAD_LETTER.name, key_type=bytes, value_type=bytes)
    redis = Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_timeout_s,
        socket_connect_timeout=settings.redis_timeout_s,
    )
    writer = StateWriter(redis)
    progress = LogProgress(redis)
    log_ends = LogEnds(settings.kafka(), settings.log_end_timeout_s)

    @app.on_before_shutdown.connect
    async def close_log_ends(_: faust.App, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        await log_ends.close()

    applied_at: dict[tuple[str, int], int] = {}
    """(topic, partition) -> log time of the newest record this worker applied."""
    caught_up_at: dict[tuple[str, int], int] = {}
    """(topic, partition) -> when this worker last found everything in its log applied."""

    async def dead_letter(record: LogRecord, reason: str) -> None:
        log.warning(
            "dead-lettering %s[%d]@%d: %s", record.topic, record.partition, record.offset, reason
        )
        headers = {
            "consentry-reason": reason.encode()[:4096],
            "consentry-source": f"{record.topic}:{record.partition}:{record.offset}".encode(),
        }
        sent = await dead_letters.send(key=record.key, value=record.value or b"", headers=headers)
        await sent

    async def materialise(messages: Sequence[Any]) -> None:
        """One fetch: applied to Redis (in batches of ``batch_max``), then acked -- faust
        commits only acked offsets, so a crash before this returns redelivers it."""
        records = log_records(messages)
        await apply_batch(records, writer, dead_letter, chunk=settings.batch_max)
        for message in messages:
            app.consumer.ack(message)
        for record in records:
            key = (record.topic, record.partition)
            applied_at[key] = max(applied_at.get(key, 0), record.timestamp_ms)

    app.deliver_batches(source, materialise, first=[CONSENT_CHANGES.name])

    @app.timer(interval=settings.heartbeat_interval_s)  # type: ignore[untyped-decorator]  # faust ships no types
    async def heartbeat() -> None:
        try:
            freshness = await measure_partitions()
            if await writer.beat(freshness):
                metrics.HEARTBEAT.set(time.time())
        except RedisError as exc:
            log.warning("heartbeat not written: %s", exc)
        except (KafkaError, TimeoutError) as exc:
            log.warning("heartbeat not written, the log end is unknown: %r", exc)

    async def measure_partitions() -> dict[tuple[str, int], int]:
        """Per assigned partition: the time up to which Redis holds all of it, and its lag.

        Complete up to the moment we asked the broker for the log end if everything
        before that end is applied; else up to the later of the last moment it was seen
        so and the log time of the last record this worker applied (0 when neither):
        every write acknowledged before a caught-up moment was in the log end asked then
        (acks=all comes after the append), so it is applied. A quiet partition that just
        received a record is then still "complete up to" a second ago, not up to its last
        record's time minutes ago -- which made every check unverifiable until the record
        was applied. No answer from the broker, no heartbeat: the freshness ages and
        checks fail closed; a worker behind for longer than the bound fails them closed.
        """
        assigned = sorted(app.consumer.assignment())
        if not assigned:
            return {}
        asked_at = time.time_ns() // 1_000_000
        ends = await log_ends(assigned)
        applied = await progress.applied((tp.topic, tp.partition) for tp in assigned)
        freshness: dict[tuple[str, int], int] = {}
        for tp in assigned:
            end = ends.get(tp)
            if end is None:
                continue  # the previous value ages on its own
            ident = (tp.topic, tp.partition)
            lag = max(0, end - (applied[ident] + 1))
            metrics.CONSUMER_LAG.labels(topic=tp.topic, partition=str(tp.partition)).set(lag)
            if lag == 0:
                caught_up_at[ident] = asked_at
                freshness[ident] = asked_at
            else:
                freshness[ident] = max(caught_up_at.get(ident, 0), applied_at.get(ident, 0))
        return freshness

    rebuilder = Rebuilder(
        redis,
        settings.kafka(),
        lambda: set(app.consumer.assignment()),
        [CONSENT_CHANGES.name, CATALOGUE.name],
    )

    @app.timer(interval=0.25)  # type: ignore[untyped-decorator]  # faust ships no types
    async def keep_whole() -> None:
        try:
            await rebuilder.tick()
        except RedisError as exc:
            log.warning("cannot see whether Redis holds the whole log: %s", exc)

    return app

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

from consentry_domain.freshness import Seen, measure
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
    app = worker_app(settings, producer_acks=-1)
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
    trust = settings.event_verifier()

    @app.on_before_shutdown.connect
    async def close_log_ends(_: faust.App, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        await log_ends.close()

    seen: dict[tuple[str, int], Seen] = {}
    """(topic, partition) -> what this worker knows of its freshness (``freshness.Seen``)."""

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
        await apply_batch(records, writer, dead_letter, trust=trust, chunk=settings.batch_max)
        for message in messages:
            app.consumer.ack(message)
        times: dict[tuple[str, int], list[int]] = {}
        for record in records:
            times.setdefault((record.topic, record.partition), []).append(record.timestamp_ms)
        for key, applied in times.items():
            seen[key] = seen.get(key, Seen()).applied(applied)

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
        """Per assigned partition: the time up to which Redis holds all of it (the rule is
        ``consentry_domain.freshness``), and its lag as a metric. No answer from the
        broker, no heartbeat: the freshness ages and checks fail closed."""
        assigned = sorted(app.consumer.assignment())
        if not assigned:
            return {}
        asked_at = time.time_ns() // 1_000_000
        ends = await log_ends(assigned)
        applied = await progress.applied((tp.topic, tp.partition) for tp in assigned)
        freshness: dict[tuple[str, int], int] = {}
        for tp in assigned:
            ident = (tp.topic, tp.partition)
            measured = measure(seen.get(ident, Seen()), asked_at, ends.get(tp), applied[ident])
            seen[ident] = measured.seen
            if measured.lag is not None:
                labels = {"topic": tp.topic, "partition": str(tp.partition)}
                metrics.CONSUMER_LAG.labels(**labels).set(measured.lag)
            if measured.complete_to_ms is not None:
                freshness[ident] = measured.complete_to_ms
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

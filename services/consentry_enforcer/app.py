"""The enforcer's faust app: a consumer group of its own over the consent and catalogue
topics, taking a fetch at a time; window enforcement and the backlog on timers. Nothing
is enforced before the store is whole (``StoreRecovery``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, cast

import faust
from faust.transport.drivers.aiokafka import Producer
from redis.asyncio import Redis
from redis.exceptions import RedisError

from consentry_domain import load_taxonomy
from consentry_enforcer import metrics
from consentry_enforcer.enforce import Enforcer, NotYetApplied, Told, Traced
from consentry_enforcer.recovery import StoreRecovery, encode_told
from consentry_enforcer.settings import EnforcerSettings
from consentry_events import (
    CATALOGUE,
    CONSENT_CHANGES,
    ENFORCEMENT,
    ENFORCEMENT_STATE,
    EnforcementChanged,
)
from consentry_kafka.batches import log_records, worker_app
from consentry_kafka.produce import send_keyed
from consentry_state import LogProgress

log = logging.getLogger(__name__)

ENFORCEMENT_BATCH_BYTES = 256 * 1024
"""A fan-out step's events for one partition go in a few record batches, not dozens."""


def create_app(settings: EnforcerSettings) -> faust.App:
    app = worker_app(
        settings,
        producer_acks=-1,
        producer_max_batch_size=ENFORCEMENT_BATCH_BYTES,
    )
    source = app.topic(CONSENT_CHANGES.name, CATALOGUE.name, key_type=bytes, value_type=bytes)

    def redis(url: str) -> Redis:
        timeout = settings.redis_timeout_s
        return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)

    state, store = redis(settings.redis_url), redis(settings.store_url)
    progress = LogProgress(state)

    class Kafka:
        """Straight to faust's aiokafka producer a batch per partition (faust's
        ``Topic.send`` costs several times more per record); each call returns once the
        broker acknowledged every record (acks=all)."""

        async def publish(
            self, events: Sequence[EnforcementChanged], traced: Traced | None = None
        ) -> None:
            records = [
                (f"{e.isrc}|{e.purpose}".encode(), e.model_dump_json().encode()) for e in events
            ]
            headers = None
            if traced:  # only while a traced record is enforced
                headers = [
                    traced.get((e.cause.topic, e.cause.partition, e.cause.offset), ())
                    if e.cause is not None
                    else ()
                    for e in events
                ]
            await send_keyed(self._producer(), ENFORCEMENT.name, records, headers)

        async def remember(self, told: Told) -> None:
            await send_keyed(self._producer(), ENFORCEMENT_STATE.name, encode_told(told))

        @staticmethod
        def _producer() -> Any:
            # faust's aiokafka driver keeps its AIOKafkaProducer behind this one accessor.
            return cast(Producer, app.producer)._ensure_producer()

    enforcer = Enforcer(
        state,
        store,
        load_taxonomy(settings.purposes_file),
        Kafka(),
        trust=settings.event_verifier(),
        chunk=settings.chunk,
        apply_wait_s=settings.apply_wait_s,
    )
    recovery = StoreRecovery(settings.kafka(), store, enforcer)
    enforced: dict[tuple[str, int], int] = {}
    """(topic, partition) -> the offset below which this worker has enforced everything."""

    async def enforce(messages: Sequence[Any]) -> None:
        """One fetch, enforced, then acked: a crash before the end redelivers it (at least
        once), and a fan-out resumes where it stopped."""
        records = log_records(messages)
        for record in records:
            enforced.setdefault((record.topic, record.partition), record.offset)
        delay_s = 0.1
        while True:  # a batch is never skipped, only tried again
            try:
                await recovery.ensure()
                await enforcer.handle(records)
                break
            except (RedisError, OSError, NotYetApplied) as exc:
                log.warning("enforcement postponed, retrying in %.1fs: %s", delay_s, exc)
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, 2.0)
        for message in messages:
            app.consumer.ack(message)
        for record in records:
            tp = (record.topic, record.partition)
            enforced[tp] = max(enforced[tp], record.offset + 1)

    app.deliver_batches(source, enforce, first=[CONSENT_CHANGES.name])

    @app.timer(interval=settings.due_interval_s)  # type: ignore[untyped-decorator]  # faust ships no types
    async def windows() -> None:
        try:
            await recovery.ensure()
            await enforcer.due()
        except (RedisError, OSError, NotYetApplied) as exc:
            log.warning("window enforcement postponed: %s", exc)

    @app.timer(interval=settings.backlog_interval_s)  # type: ignore[untyped-decorator]  # faust ships no types
    async def backlog() -> None:
        """Applied by the materialiser, not yet enforced here: per log, over the
        partitions this worker holds."""
        assigned = [(tp.topic, tp.partition) for tp in app.consumer.assignment()]
        try:
            applied = await progress.applied(assigned)
        except RedisError as exc:
            log.warning("backlog not measured: %s", exc)
            return
        behind = {"consent": 0, "catalogue": 0}
        for tp in assigned:
            done = enforced.get(tp)
            if done is not None:
                kind = "consent" if tp[0] == CONSENT_CHANGES.name else "catalogue"
                behind[kind] += max(0, applied[tp] + 1 - done)
        for kind, records in behind.items():
            metrics.BACKLOG.labels(log=kind).set(records)

    return app

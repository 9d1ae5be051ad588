"""Keep Redis whole: notice a lost state and replay the log into it, without a human.

Redis is a cache of the log. ``cs:ready`` says it holds the whole log; a flush or an
empty Redis (a fresh deployment, a restart without persistence) removes it. Then:

* the heartbeat stops (it is written only while ``cs:ready`` exists), so every check
  answers ``unverifiable`` -- never an answer from a partial state;
* each worker joins the rebuild epoch (``cs:epoch``, created once by whoever is first)
  and replays each partition assigned to it from the beginning of the log up to the log
  end noted when it started, with a consumer of its own, through the same versioned
  writes. The faust agent meanwhile keeps applying new records at the head: merges do
  not depend on order, so both converge, and the replay knows exactly when it is done;
* the worker that records the last partition sets ``cs:ready`` -- atomically, and only
  if the epoch is still the same, so a second flush during the rebuild starts it over
  instead of declaring an empty state complete. A partition whose worker died mid-replay
  is replayed by its next owner.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from redis.asyncio import Redis

from consentry_auth.kafka import KafkaConnection
from consentry_materialiser import metrics
from consentry_state import Applied, StateWriter, keys

log = logging.getLogger(__name__)


async def replay_partitions(
    kafka: KafkaConnection,
    partitions: Sequence[TopicPartition],
    writer: StateWriter,
    batch: int = 2000,
) -> None:
    """Apply every record of ``partitions`` from the log start to the log end as of now."""
    consumer = AIOKafkaConsumer(
        **kafka.client_args(),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id="consentry-rebuild",
    )
    await consumer.start()
    try:
        consumer.assign(list(partitions))
        ends = await consumer.end_offsets(list(partitions))
        starts = await consumer.beginning_offsets(list(partitions))
        for tp in partitions:
            consumer.seek(tp, starts[tp])
        remaining = {tp for tp in partitions if starts[tp] < ends[tp]}
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=batch)
            records: list[Applied] = []
            for tp, messages in fetched.items():
                for message in messages:
                    if message.offset >= ends[tp]:
                        continue
                    applied, _ = Applied.decode(
                        tp.topic, tp.partition, message.offset, message.value
                    )
                    records.append(applied)  # a bad record was dead-lettered when first consumed
            if records:
                await writer.apply(records)
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()


async def partition_total(kafka: KafkaConnection, topics: Sequence[str]) -> int:
    """How many partitions the logs have, asked of the broker (any worker can; faust's
    own view of topic metadata is kept by the group leader only)."""
    admin = AIOKafkaAdminClient(**kafka.client_args(), client_id="consentry-rebuild")
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
        return sum(len(topic["partitions"]) for topic in described)
    finally:
        await admin.close()


class Rebuilder:
    def __init__(
        self,
        redis: Redis,
        kafka: KafkaConnection,
        assignment: Callable[[], set[Any]],
        topics: Sequence[str],
    ) -> None:
        self._redis = redis
        self._writer = StateWriter(redis)
        self._kafka = kafka
        self._assignment = assignment
        self._topics = list(topics)
        self._total: int | None = None
        self._epoch: str | None = None
        self._started = 0.0
        self._replaying: dict[tuple[str, int], asyncio.Task[None]] = {}

    async def tick(self) -> bool:
        """One look; True while the state is complete."""
        if await self._redis.exists(keys.READY):
            if self._epoch is not None:
                metrics.REBUILD_SECONDS.observe(time.monotonic() - self._started)
                log.info("state whole again after %.1fs", time.monotonic() - self._started)
                self._forget()
            return True
        await self._redis.set(keys.EPOCH, uuid.uuid4().hex, nx=True)
        raw = await self._redis.get(keys.EPOCH)
        if raw is None:
            return False  # flushed again between the two commands: next tick
        epoch = raw.decode() if isinstance(raw, bytes) else str(raw)
        if epoch != self._epoch:
            log.warning("Redis does not hold the whole log: rebuilding (epoch %s)", epoch)
            self._forget()
            self._epoch, self._started = epoch, time.monotonic()
            metrics.REBUILDS.inc()
        await self._progress(epoch)
        return False

    def _forget(self) -> None:
        for task in self._replaying.values():
            task.cancel()
        self._replaying.clear()
        self._epoch = None

    async def _progress(self, epoch: str) -> None:
        if self._total is None:
            self._total = await partition_total(self._kafka, self._topics)
        total = self._total
        done_key = f"cs:rebuilt:{epoch}"
        finished: list[str] = []
        for tp in sorted(self._assignment()):
            ident = (tp.topic, tp.partition)
            field = keys.watermark_field(tp.topic, tp.partition)
            task = self._replaying.get(ident)
            if task is None:
                if await self._redis.hexists(done_key, field):
                    continue
                target = TopicPartition(tp.topic, tp.partition)
                self._replaying[ident] = asyncio.create_task(
                    replay_partitions(self._kafka, [target], self._writer)
                )
            elif task.done():
                if task.cancelled() or task.exception() is not None:
                    log.warning("replay of %s failed, retrying: %r", field, task.exception())
                    del self._replaying[ident]
                else:
                    finished.append(field)
        if finished and await self._writer.mark_rebuilt(epoch, total, finished):
            log.info("rebuild complete: the state holds the whole log")

"""Keep Redis whole: notice a lost state and replay the log into it, without a human.

Redis is a cache of the log. The state's READY mark says it holds the whole log; a
flush or an empty Redis (a fresh deployment, a restart without persistence) removes
it. Then:

* the heartbeat stops (it is written only while the state is whole), so every check
  answers ``unverifiable`` -- never an answer from a partial state;
* each worker joins the rebuild epoch (created once by whoever is first) and
  replays each partition assigned to it from the beginning of the log up to the log
  end noted when it started, with a consumer of its own, through the same versioned
  writes. The faust agent meanwhile keeps applying new records at the head: merges do
  not depend on order, so both converge, and the replay knows exactly when it is done;
* the worker that records the last partition declares the state whole -- atomically,
  and only if the epoch is still the same, so a second flush during the rebuild starts it over
  instead of declaring an empty state complete. A partition whose worker died mid-replay
  is replayed by its next owner.

A state written in another layout (``consentry_state.layout.VERSION``) is not whole for
this code: the first worker to see it retires it -- checks answer ``unverifiable`` --
and it is rebuilt the same way; the old layout's keys are swept away meanwhile. A layout
change is a rebuild from Kafka, never a data migration.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import TopicPartition
from redis.asyncio import Redis

from consentry_events import DecodeError
from consentry_events.logged import Position
from consentry_kafka import KafkaConnection, partition_counts, read_to_end
from consentry_materialiser import metrics
from consentry_state import LogProgress, OldLayout, RebuildMarks, StateWriter, ToApply, parts

log = logging.getLogger(__name__)


async def replay_partitions(
    kafka: KafkaConnection,
    partitions: Sequence[TopicPartition],
    writer: StateWriter,
    batch: int = 2000,
) -> None:
    """Apply every record of ``partitions`` from the log start to the log end as of now."""
    async for records in read_to_end(
        kafka, partitions, max_records=batch, client_id="consentry-rebuild"
    ):
        to_apply: list[ToApply] = []
        for record in records:
            try:
                to_apply.append(record.decoded(kafka.trust))
            except DecodeError:  # dead-lettered when first consumed; the watermark moves on
                to_apply.append(Position(record.topic, record.partition, record.offset))
        for part in parts(to_apply, batch):
            await writer.apply(part)


class Rebuilder:
    def __init__(
        self,
        redis: Redis,
        kafka: KafkaConnection,
        assignment: Callable[[], set[Any]],
        topics: Sequence[str],
    ) -> None:
        self._progress = LogProgress(redis)
        self._marks = RebuildMarks(redis)
        self._old = OldLayout(redis)
        self._sweeping: asyncio.Task[int] | None = None
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
        if await self._progress.is_whole():
            if self._epoch is not None:
                metrics.REBUILD_SECONDS.observe(time.monotonic() - self._started)
                log.info("state whole again after %.1fs", time.monotonic() - self._started)
                self._forget()
            return True
        if await self._progress.layout_outdated():
            log.warning("Redis holds another layout: retiring it and rebuilding from the log")
            await self._old.retire()
            self._sweeping = asyncio.create_task(self._old.sweep())
        epoch = await self._marks.epoch()
        if epoch is None:
            return False  # flushed again meanwhile: next tick
        if epoch != self._epoch:
            log.warning("Redis does not hold the whole log: rebuilding (epoch %s)", epoch)
            self._forget()
            self._epoch, self._started = epoch, time.monotonic()
            metrics.REBUILDS.inc()
        await self._progress_in(epoch)
        return False

    def _forget(self) -> None:
        for task in self._replaying.values():
            task.cancel()
        self._replaying.clear()
        self._epoch = None

    async def _progress_in(self, epoch: str) -> None:
        if self._total is None:
            self._total = sum((await partition_counts(self._kafka, self._topics)).values())
        finished: list[tuple[str, int]] = []
        for tp in sorted(self._assignment()):
            ident = (tp.topic, tp.partition)
            task = self._replaying.get(ident)
            if task is None:
                if await self._marks.replayed(epoch, tp.topic, tp.partition):
                    continue
                target = TopicPartition(tp.topic, tp.partition)
                self._replaying[ident] = asyncio.create_task(
                    replay_partitions(self._kafka, [target], self._writer)
                )
            elif task.done():
                if task.cancelled() or task.exception() is not None:
                    log.warning("replay of %s failed, retrying: %r", ident, task.exception())
                    del self._replaying[ident]
                else:
                    finished.append(ident)
        if finished and await self._marks.mark_replayed(epoch, self._total, finished):
            log.info("rebuild complete: the state holds the whole log")

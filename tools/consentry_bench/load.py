"""Loading a catalogue through the real pipeline, timed: tracks then decisions produced
to Kafka, applied by the materialiser, indexed by the enforcer; Redis memory measured
between the steps; and the plain-aiokafka reference on the same topic."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiokafka import AIOKafkaConsumer
from redis.asyncio import Redis

from consentry_bench import measure, memory
from consentry_bench.catalogue import Catalogue
from consentry_events import CATALOGUE, ConsentChanged, TrackChanged
from consentry_stack.stack import Stack

MATERIALISER, ENFORCER = "consentry-materialiser", "consentry-enforcer"
T = TypeVar("T")


async def plain_consumer(bootstrap: str, topic: str) -> dict[str, float]:
    """Reference: a plain aiokafka consumer reading ``topic`` from the start to its end
    (fetch only, no decode), records per second."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 2**20,
        fetch_max_bytes=32 * 2**20,
    )
    await consumer.start()
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=100)
        parts = list(consumer.assignment())
        ends = await consumer.end_offsets(parts)
        await consumer.seek_to_beginning(*parts)
        total = sum(ends.values())
        started, seen = time.monotonic(), 0
        while seen < total:
            for records in (await consumer.getmany(timeout_ms=500, max_records=50_000)).values():
                seen += len(records)
        return {"records": seen, "records_per_s": seen / (time.monotonic() - started)}
    finally:
        await consumer.stop()


class Counted(Generic[T]):
    """The items of ``items``, counted as they are yielded: a catalogue is generated
    lazily (10 million tracks never sit in memory) and counted only on its way out."""

    def __init__(self, items: Iterable[T]) -> None:
        self._items = items
        self.count = 0

    def __iter__(self) -> Iterator[T]:
        for item in self._items:
            self.count += 1
            yield item


@dataclass(frozen=True)
class Pipeline:
    """Seconds from the first event produced until all were produced, applied to Redis
    (its watermarks), committed by the materialiser and caught up with by the enforcer."""

    produced: float
    in_redis: float
    committed: float
    enforced: float


async def through_the_pipeline(
    stack: Stack, client: Redis, events: Iterable[ConsentChanged | TrackChanged]
) -> Pipeline:
    """Produce ``events`` and wait for each stage in turn, timed from the start."""
    bootstrap = stack.kafka.bootstrap
    started = time.monotonic()
    marks = await measure.produce(bootstrap, stack.event_signing_key, events)
    produced = time.monotonic() - started
    await measure.wait_watermarks(client, marks, timeout_s=3600)
    in_redis = time.monotonic() - started
    await measure.wait_group_caught_up(bootstrap, MATERIALISER, timeout_s=3600)
    committed = time.monotonic() - started
    await measure.wait_group_caught_up(bootstrap, ENFORCER, timeout_s=3600)
    return Pipeline(produced, in_redis, committed, time.monotonic() - started)


async def load(stack: Stack, catalogue: Catalogue) -> dict[str, Any]:
    """Everything about the load, memory included."""
    bootstrap = stack.kafka.bootstrap
    client = Redis.from_url(stack.redis.url)
    store = Redis.from_url(stack.store.url)
    try:
        mem0 = await memory.used(client)
        store0 = await memory.used(store)
        counted_tracks = Counted(catalogue.tracks())
        loaded = await through_the_pipeline(stack, client, counted_tracks)
        mem1 = await memory.used(client)
        families_tracks = await memory.by_family(client)
        store1 = await memory.used(store)
        reference = await plain_consumer(bootstrap, CATALOGUE.name)

        counted_decisions = Counted(catalogue.decisions())
        decided = await through_the_pipeline(stack, client, counted_decisions)
        mem2 = await memory.used(client)
        families_all = await memory.by_family(client)
        store2 = await memory.used(store)
    finally:
        await client.aclose()
        await store.aclose()
    tracks, decisions = counted_tracks.count, counted_decisions.count
    return {
        "catalogue": {"tracks": tracks, "decisions": decisions, "releases": catalogue.releases},
        "materialiser": {
            "produce_s": loaded.produced,
            "to_redis_s": loaded.in_redis,
            "fully_committed_s": loaded.committed,
            "events_per_s_to_redis": tracks / loaded.in_redis,
            "events_per_s_fully_committed": tracks / loaded.committed,
            "decisions_per_s_to_redis": decisions / decided.in_redis,
        },
        "enforcer": {
            "caught_up_s": loaded.enforced,
            "events_per_s": tracks / loaded.enforced,
            "decisions_per_s": decisions / decided.enforced,
            "store_bytes_per_track": (store1 - store0) / tracks,
            "store_bytes_per_decision": (store2 - store1) / max(1, decisions),
        },
        "plain_aiokafka": reference,
        "memory": {
            "empty_bytes": mem0,
            "bytes_per_track": (mem1 - mem0) / tracks,
            "bytes_per_decision": (mem2 - mem1) / max(1, decisions),
            "after_tracks": families_tracks,
            "after_decisions": families_all,
        },
    }

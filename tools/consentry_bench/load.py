"""Loading a catalogue through the real pipeline, timed: tracks then decisions produced
to Kafka, applied by the materialiser, indexed by the enforcer; Redis memory measured
between the steps; and the plain-aiokafka reference on the same topic."""

from __future__ import annotations

import time
from typing import Any

from aiokafka import AIOKafkaConsumer
from redis.asyncio import Redis

from consentry_bench import measure, memory
from consentry_bench.catalogue import Catalogue
from consentry_events import CATALOGUE
from consentry_stack.stack import Stack

MATERIALISER, ENFORCER = "consentry-materialiser", "consentry-enforcer"


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


async def load(stack: Stack, catalogue: Catalogue) -> dict[str, Any]:
    """Everything about the load, memory included."""
    bootstrap = stack.kafka.bootstrap
    client = Redis.from_url(stack.redis.url)
    store = Redis.from_url(stack.store.url)
    try:
        mem0 = await memory.used(client)
        store0 = await memory.used(store)
        started = time.monotonic()
        tracks = 0

        def counted() -> Any:
            nonlocal tracks
            for track in catalogue.tracks():
                tracks += 1
                yield track

        marks = await measure.produce(bootstrap, counted())
        produced = time.monotonic() - started
        await measure.wait_watermarks(client, marks, timeout_s=3600)
        in_redis = time.monotonic() - started
        await measure.wait_group_caught_up(bootstrap, MATERIALISER, timeout_s=3600)
        committed = time.monotonic() - started
        await measure.wait_group_caught_up(bootstrap, ENFORCER, timeout_s=3600)
        enforced = time.monotonic() - started
        mem1 = await memory.used(client)
        families_tracks = await memory.by_family(client)
        store1 = await memory.used(store)
        reference = await plain_consumer(bootstrap, CATALOGUE.name)

        decisions = 0

        def counted_decisions() -> Any:
            nonlocal decisions
            for decision in catalogue.decisions():
                decisions += 1
                yield decision

        started = time.monotonic()
        marks = await measure.produce(bootstrap, counted_decisions())
        await measure.wait_watermarks(client, marks, timeout_s=3600)
        decisions_in_redis = time.monotonic() - started
        await measure.wait_group_caught_up(bootstrap, MATERIALISER, timeout_s=3600)
        await measure.wait_group_caught_up(bootstrap, ENFORCER, timeout_s=3600)
        decisions_enforced = time.monotonic() - started
        mem2 = await memory.used(client)
        families_all = await memory.by_family(client)
        store2 = await memory.used(store)
    finally:
        await client.aclose()
        await store.aclose()
    return {
        "catalogue": {"tracks": tracks, "decisions": decisions, "releases": catalogue.releases},
        "materialiser": {
            "produce_s": produced,
            "to_redis_s": in_redis,
            "fully_committed_s": committed,
            "events_per_s_to_redis": tracks / in_redis,
            "events_per_s_fully_committed": tracks / committed,
            "decisions_per_s_to_redis": decisions / decisions_in_redis,
        },
        "enforcer": {
            "caught_up_s": enforced,
            "events_per_s": tracks / enforced,
            "decisions_per_s": decisions / decisions_enforced,
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

"""The measurements themselves: SDK, propagation, materialiser, references."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from redis.asyncio import Redis

from consentry_bench.opt_outs import OptOuts
from consentry_bench.stats import summary_us
from consentry_events import (
    CATALOGUE,
    CONSENT_CHANGES,
    ConsentChanged,
    TrackChanged,
)
from consentry_kafka.signatures import EventSigner
from consentry_sdk import CheckSettings, connect
from consentry_stack.signed import signed
from consentry_state import keys


async def produce(
    bootstrap: str, key: Path, events: Iterable[ConsentChanged | TrackChanged]
) -> dict[str, int]:
    """Produce as fast as the client can (acks=all), signed with the event signing key in
    ``key`` as the write API signs (5,000 at a time); returns the last offset per
    partition."""
    signer = EventSigner(key)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        max_batch_size=512 * 1024,
        enable_idempotence=True,
    )
    await producer.start()
    last: dict[str, int] = {}
    try:
        every = iter(events)
        while chunk := list(itertools.islice(every, 5000)):
            pending = [
                await producer.send(topic, value, key=k, headers=headers)
                for topic, k, value, headers in signed(signer, chunk)
            ]
            for meta in await asyncio.gather(*pending):
                field = keys.watermark_field(meta.topic, meta.partition)
                last[field] = max(last.get(field, -1), meta.offset)
    finally:
        await producer.stop()
    return last


async def wait_watermarks(redis: Redis, targets: dict[str, int], timeout_s: float = 600) -> float:
    """Seconds until Redis watermarks reach ``targets``."""
    started = time.monotonic()
    fields = list(targets)
    while True:
        marks = await redis.hmget(keys.WATERMARKS, fields)
        if all(m is not None and int(m) >= targets[f] for f, m in zip(fields, marks, strict=True)):
            return time.monotonic() - started
        if time.monotonic() - started > timeout_s:
            raise TimeoutError(f"watermarks not reached in {timeout_s}s")
        await asyncio.sleep(0.02)


async def wait_group_caught_up(bootstrap: str, group: str, timeout_s: float = 900) -> float:
    """Seconds until consumer ``group`` has committed to the end of both topics it reads
    (the materialiser or the enforcer acknowledged everything)."""
    started = time.monotonic()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        parts = [
            TopicPartition(spec.name, p)
            for spec in (CONSENT_CHANGES, CATALOGUE)
            for p in range(spec.partitions)
        ]
        while True:
            ends = await consumer.end_offsets(parts)
            committed = await admin.list_consumer_group_offsets(group)
            if all(
                ends[tp] == 0 or (tp in committed and committed[tp].offset >= ends[tp])
                for tp in parts
            ):
                return time.monotonic() - started
            if time.monotonic() - started > timeout_s:
                raise TimeoutError(f"consumer group {group} did not catch up in {timeout_s}s")
            await asyncio.sleep(0.25)
    finally:
        await consumer.stop()
        await admin.close()


async def sdk_latencies(
    redis_url: str, isrcs: list[str], purpose: str, *, iterations: int, seed: int = 1
) -> dict[str, dict[str, float]]:
    rng = random.Random(seed)
    out: dict[str, dict[str, float]] = {}
    clock = time.perf_counter_ns

    # Cache hits: a long bound so entries stay put while measured; the hit path is the same.
    async with connect(CheckSettings(redis_url=redis_url, cache_bound_s=600)) as checker:
        cache = checker.cache
        assert cache is not None
        while not cache.live or not await checker.verifiable():
            await asyncio.sleep(0.01)  # measure real answers, never early 'unverifiable's
        hot = rng.sample(isrcs, 1000)
        await checker.check_many(hot, purpose)
        samples = []
        for _ in range(iterations * 10):
            isrc = hot[rng.randrange(1000)]
            t0 = clock()
            await checker.check(isrc, purpose)
            samples.append(clock() - t0)
        out["sdk_cache_hit"] = summary_us(samples)
        started = clock()
        count = 0
        while clock() - started < 1_000_000_000:
            for isrc in hot:
                await checker.check(isrc, purpose)
            count += len(hot)
        out["sdk_cache_hit"]["checks_per_s_one_core"] = count / ((clock() - started) / 1e9)

    async with connect(CheckSettings(redis_url=redis_url, cache_bound_s=0)) as checker:
        assert await checker.verifiable(), "the state must be whole and fresh to measure"
        samples = []
        for _ in range(iterations):
            isrc = isrcs[rng.randrange(len(isrcs))]
            t0 = clock()
            await checker.check(isrc, purpose)
            samples.append(clock() - t0)
        out["sdk_redis_one"] = summary_us(samples)
        samples = []
        for _ in range(max(200, iterations // 10)):
            batch = rng.sample(isrcs, 100)
            t0 = clock()
            await checker.check_many(batch, purpose)
            samples.append(clock() - t0)
        out["sdk_redis_batch100"] = summary_us(samples)
    return out


async def python_get_loop(
    redis_url: str, iterations: int, *, primary_url: str | None = None
) -> dict[str, float]:
    """Reference: redis-py (asyncio, hiredis) doing one GET per call on the Redis at
    ``redis_url`` (a replica: the value is written on ``primary_url`` and read once there)."""
    client = Redis.from_url(redis_url)
    writer = Redis.from_url(primary_url or redis_url)
    await writer.set("bench:ref", "x" * 64)
    while await client.get("bench:ref") is None:
        await asyncio.sleep(0.01)
    samples = []
    clock = time.perf_counter_ns
    try:
        for _ in range(iterations):
            t0 = clock()
            await client.get("bench:ref")
            samples.append(clock() - t0)
    finally:
        await writer.delete("bench:ref")
        await writer.aclose()
        await client.aclose()
    return summary_us(samples)


async def propagation(opt_outs: OptOuts, redis_url: str) -> dict[str, Any]:
    """Opt-out POSTed -> a caching SDK that held the old allow answers deny."""
    clock = time.perf_counter_ns
    purpose = opt_outs.purpose
    from_send: list[int] = []
    from_ack: list[int] = []
    async with (
        connect(CheckSettings(redis_url=redis_url)) as checker,
        opt_outs.client() as http,
    ):
        cache = checker.cache
        assert cache is not None
        while not cache.live:
            await asyncio.sleep(0.01)
        for isrc, artist in opt_outs.targets:
            before = await checker.check(isrc, purpose)
            assert before.allowed, before
            assert cache.get(isrc, purpose) is not None, "the checker holds the old answer"
            sent, acked = await opt_outs.send(http, artist)
            while (await checker.check(isrc, purpose)).allowed:
                await asyncio.sleep(0)
            denied = clock()
            from_send.append(denied - sent)
            from_ack.append(denied - acked)
    return {
        "from_request": summary_us(from_send),
        "from_acknowledgement": summary_us(from_ack),
        "samples_ms": [round(ns / 1e6, 3) for ns in from_send],
    }


async def memory_used(redis_url: str) -> int:
    client = Redis.from_url(redis_url)
    try:
        info = await client.info("memory")
        return int(info["used_memory"])
    finally:
        await client.aclose()


async def rebuild_after_flush(redis_url: str, timeout_s: float = 900) -> float:
    """FLUSHALL, then seconds until the materialiser declares the state whole again."""
    client = Redis.from_url(redis_url)
    try:
        await client.flushall()
        started = time.monotonic()
        while not await client.exists(keys.READY):
            if time.monotonic() - started > timeout_s:
                raise TimeoutError("the state was not rebuilt")
            await asyncio.sleep(0.05)
        return time.monotonic() - started
    finally:
        await client.aclose()

"""A major label opts its whole catalogue out of one purpose: how soon checks deny, how
soon every downstream enforcement event is out (counted against the catalogue), and how
fast the materialiser applies other work meanwhile, beside the same work when idle."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from redis.asyncio import Redis

from consentry_bench import measure
from consentry_bench.catalogue import FAN_OUT_LABEL, FAN_OUT_PURPOSE, NOW, Catalogue
from consentry_bench.stats import summary_us
from consentry_domain import Basis
from consentry_events import ENFORCEMENT, TrackChanged
from consentry_sdk import CheckSettings, ConsentChecker, connect
from consentry_stack.stack import Stack
from consentry_state import LogProgress

EXTRA_TRACKS = 100_000
"""New tracks applied idle, then again during the fan-out."""


def _extra(prefix: str, series: int, n: int) -> list[TrackChanged]:
    """``n`` tracks of a label outside the catalogue; ``series`` (a digit) keeps the UPCs
    of two such sets apart."""
    return [
        TrackChanged(
            isrc=f"{prefix}{i:07d}",
            upc=f"8{series}{i // 12:011d}",
            parties=(f"artist:extra-{prefix}{i // 12}", "label:bench-extra"),
            recorded_at=NOW,
        )
        for i in range(n)
    ]


async def _apply_rate(
    redis_url: str, bootstrap: str, key: Path, tracks: list[TrackChanged]
) -> float:
    redis = Redis.from_url(redis_url)
    try:
        started = time.monotonic()
        marks = await measure.produce(bootstrap, key, tracks)
        await measure.wait_watermarks(redis, marks, timeout_s=1800)
        return len(tracks) / (time.monotonic() - started)
    finally:
        await redis.aclose()


def _apply_rate_aside(redis_url: str, bootstrap: str, key: Path) -> float:
    """The apply rate of the second set of extra tracks, in a process of its own so that
    producing them never holds up the checks timed beside it."""
    return asyncio.run(_apply_rate(redis_url, bootstrap, key, _extra("ZZBEV", 2, EXTRA_TRACKS)))


def _warm() -> None:
    time.sleep(0.5)


async def _until_denied(checker: ConsentChecker, isrcs: list[str], acked: float) -> list[int]:
    """Nanoseconds from the 202 until each track answers deny (batch checks, no cache)."""
    denied: dict[str, int] = {}
    deadline = time.monotonic() + 300
    while len(denied) < len(isrcs) and time.monotonic() < deadline:
        pending = [i for i in isrcs if i not in denied]
        answers = await checker.check_many(pending[:500], FAN_OUT_PURPOSE)
        now = time.perf_counter_ns()
        for isrc, answer in answers.items():
            if not answer.allowed and answer.reasons[0].basis is Basis.DECISION:
                denied[isrc] = now - int(acked * 1e9)
    return list(denied.values())


class Published:
    """Counts the enforcement topic's ``deny`` events at one purpose."""

    def __init__(self, bootstrap: str, purpose: str = FAN_OUT_PURPOSE) -> None:
        self.purpose = purpose
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_bytes=32 * 2**20
        )
        self.distinct: set[bytes] = set()
        self.total = 0
        self.last = 0.0

    async def start(self, start: dict[int, int] | None = None) -> None:
        """From ``start`` (partition -> offset), or from the topic's end now."""
        await self.consumer.start()
        parts = [TopicPartition(ENFORCEMENT.name, p) for p in range(ENFORCEMENT.partitions)]
        self.consumer.assign(parts)
        ends = await self.consumer.end_offsets(parts) if start is None else {}
        for tp in parts:
            self.consumer.seek(tp, ends[tp] if start is None else start[tp.partition])

    async def until(self, expected: int, timeout_s: float) -> None:
        suffix = f"|{self.purpose}".encode()
        deadline = time.monotonic() + timeout_s
        try:
            while len(self.distinct) < expected and time.monotonic() < deadline:
                batch = await self.consumer.getmany(timeout_ms=200, max_records=50_000)
                for records in batch.values():
                    for record in records:
                        value = record.value or b""
                        if record.key.endswith(suffix) and b'"answer":"deny"' in value:
                            self.total += 1
                            self.distinct.add(record.key)
                            self.last = time.monotonic()
        finally:
            await self.consumer.stop()


async def _enforcement_ends(bootstrap: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(ENFORCEMENT.name, p) for p in range(ENFORCEMENT.partitions)]
        return {tp.partition: end for tp, end in (await consumer.end_offsets(parts)).items()}
    finally:
        await consumer.stop()


def _count_aside(bootstrap: str, start: dict[int, int], expected: int) -> tuple[int, int, float]:
    """Count the fan-out's events from ``start`` (partition -> offset) in a process of
    its own: decoding tens of thousands of records at a time must not hold up the checks
    being timed. (distinct, total, when the last arrived: ``time.monotonic()``)."""

    async def count() -> tuple[int, int, float]:
        published = Published(bootstrap)
        await published.start(start)
        await published.until(expected, timeout_s=1800)
        return len(published.distinct), published.total, published.last

    return asyncio.run(count())


async def _until_applied(redis_url: str, where: tuple[str, int, int], acked: float) -> float:
    """Milliseconds from the 202 until the primary's watermark passed the decision."""
    topic, partition, offset = where
    redis = Redis.from_url(redis_url)
    try:
        progress = LogProgress(redis)
        while (await progress.applied([(topic, partition)]))[(topic, partition)] < offset:
            await asyncio.sleep(0.001)
        return (time.perf_counter() - acked) * 1000
    finally:
        await redis.aclose()


async def label_opt_out(stack: Stack, catalogue: Catalogue) -> dict[str, Any]:
    idle = await _apply_rate(
        stack.redis.url,
        stack.kafka.bootstrap,
        stack.event_signing_key,
        _extra("ZZBEU", 1, EXTRA_TRACKS),
    )
    await measure.wait_group_caught_up(stack.kafka.bootstrap, "consentry-enforcer")
    expected = catalogue.expected_fan_out_changes
    body = {"party": FAN_OUT_LABEL, "purpose": FAN_OUT_PURPOSE, "choice": "deny"}
    settings = CheckSettings(redis_url=stack.check_redis_url, cache_bound_s=0)
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as aside:
        await asyncio.gather(*(loop.run_in_executor(aside, _warm) for _ in range(2)))
        start = await _enforcement_ends(stack.kafka.bootstrap)
        # Connected and warm before the decision, as an AI feature's checker is.
        async with (
            connect(settings) as checker,
            httpx.AsyncClient(base_url=stack.write_url, timeout=30) as http,
        ):
            await checker.check_many(catalogue.fan_out_sample[:500], FAN_OUT_PURPOSE)
            response = await http.post(
                "/v1/decisions",
                json={**body, "scope": "party"},
                headers={"Authorization": f"Bearer {stack.token(FAN_OUT_LABEL)}"},
            )
            acked = time.perf_counter()
            if response.status_code != 202:
                raise RuntimeError(f"the label's opt-out was refused: {response.text}")
            started = time.monotonic()
            accepted = response.json()
            where = (accepted["topic"], accepted["partition"], accepted["offset"])
            applied_ms, lags, during, (distinct, total, last) = await asyncio.gather(
                _until_applied(stack.redis.url, where, acked),
                _until_denied(checker, catalogue.fan_out_sample, acked),
                loop.run_in_executor(
                    aside,
                    _apply_rate_aside,
                    stack.redis.url,
                    stack.kafka.bootstrap,
                    stack.event_signing_key,
                ),
                loop.run_in_executor(aside, _count_aside, stack.kafka.bootstrap, start, expected),
            )
    return {
        "label_tracks": catalogue.fan_out_tracks,
        "expected_changes": expected,
        "applied_after_202_ms": applied_ms,
        "checks_deny_after_202": summary_us(lags),
        "sampled_tracks": len(catalogue.fan_out_sample),
        "denied_in_sample": len(lags),
        "published_distinct": distinct,
        "published_total": total,
        "duplicates": total - distinct,
        "missing": expected - distinct,
        "all_published_s": last - started if last else None,
        "apply_idle_per_s": idle,
        "apply_during_fan_out_per_s": during,
        "apply_ratio": during / idle,
    }

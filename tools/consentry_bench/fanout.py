"""A major label opts its whole catalogue out of one purpose: how soon checks deny, how
soon every downstream enforcement event is out (counted against the catalogue), and how
fast the materialiser applies other work meanwhile, beside the same work when idle."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from redis.asyncio import Redis

from consentry_bench import measure
from consentry_bench.catalogue import FAN_OUT_LABEL, FAN_OUT_PURPOSE, NOW, Catalogue
from consentry_bench.stats import summary_us
from consentry_domain import Basis
from consentry_events import ENFORCEMENT, TrackChanged
from consentry_sdk import CheckSettings, connect
from consentry_stack.stack import Stack

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


async def _apply_rate(stack: Stack, tracks: list[TrackChanged]) -> float:
    redis = Redis.from_url(stack.redis.url)
    try:
        started = time.monotonic()
        marks = await measure.produce(stack.kafka.bootstrap, tracks)
        await measure.wait_watermarks(redis, marks, timeout_s=1800)
        return len(tracks) / (time.monotonic() - started)
    finally:
        await redis.aclose()


def _apply_rate_aside(stack: Stack, tracks: list[TrackChanged]) -> float:
    """``_apply_rate`` on a loop of its own, so producing the tracks never delays the
    deny measurement running beside it."""
    return asyncio.run(_apply_rate(stack, tracks))


async def _until_denied(checker_url: str, isrcs: list[str], acked: float) -> list[int]:
    """Nanoseconds from the 202 until each track answers deny (batch checks, no cache)."""
    denied: dict[str, int] = {}
    async with connect(CheckSettings(redis_url=checker_url, cache_bound_s=0)) as checker:
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

    async def start(self) -> None:
        await self.consumer.start()
        parts = [TopicPartition(ENFORCEMENT.name, p) for p in range(ENFORCEMENT.partitions)]
        self.consumer.assign(parts)
        for tp, end in (await self.consumer.end_offsets(parts)).items():
            self.consumer.seek(tp, end)

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


async def label_opt_out(stack: Stack, catalogue: Catalogue) -> dict[str, Any]:
    idle = await _apply_rate(stack, _extra("ZZBEU", 1, EXTRA_TRACKS))
    extra = _extra("ZZBEV", 2, EXTRA_TRACKS)  # built before the clock starts
    await measure.wait_group_caught_up(stack.kafka.bootstrap, "consentry-enforcer")
    published = Published(stack.kafka.bootstrap)
    await published.start()
    body = {"party": FAN_OUT_LABEL, "purpose": FAN_OUT_PURPOSE, "choice": "deny"}
    async with httpx.AsyncClient(base_url=stack.write_url, timeout=30) as http:
        response = await http.post(
            "/v1/decisions",
            json={**body, "scope": "party"},
            headers={"Authorization": f"Bearer {stack.token(FAN_OUT_LABEL)}"},
        )
    acked = time.perf_counter()
    if response.status_code != 202:
        raise RuntimeError(f"the label's opt-out was refused: {response.text}")
    expected = catalogue.expected_fan_out_changes
    started = time.monotonic()
    lags, during, _ = await asyncio.gather(
        _until_denied(stack.check_redis_url, catalogue.fan_out_sample, acked),
        asyncio.to_thread(_apply_rate_aside, stack, extra),
        published.until(expected, timeout_s=1800),
    )
    return {
        "label_tracks": catalogue.fan_out_tracks,
        "expected_changes": expected,
        "checks_deny_after_202": summary_us(lags),
        "sampled_tracks": len(catalogue.fan_out_sample),
        "denied_in_sample": len(lags),
        "published_distinct": len(published.distinct),
        "published_total": published.total,
        "duplicates": published.total - len(published.distinct),
        "missing": expected - len(published.distinct),
        "all_published_s": published.last - started if published.last else None,
        "apply_idle_per_s": idle,
        "apply_during_fan_out_per_s": during,
        "apply_ratio": during / idle,
    }

"""Usage metering and revenue statements, measured on the bench stack.

* **Ingestion.** ``REPORTS`` usage reports of ``USES_PER_REPORT`` uses over the
  catalogue's tracks are produced to the usage topic (by ``REPORTERS`` reporters, so the
  partitions share them); the meter's rate is the uses it counted (its own
  ``consentry_meter_uses_total``) per second from the first record to the last. Beside
  it, a plain aiokafka consumer reads the same records (no group) and decodes them: the
  floor any consumer of this topic pays.
* **A month's statement.** ``consentry-admin statement``'s work, in process: the three
  logs read to their ends, then the month settled for a training pool (``equal``) and an
  output pool (``pro_rata``).
* **The SDK's cache-hit check while reporting.** The same cache-hit loop as the SDK
  figure, with and without a ``UsageReporter`` reporting every check (its sender
  posting to the check service in the background), back to back; then until the meter
  has counted what was reported, so the next step is not measured beside its work.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from consentry_admin.settle import read_logs
from consentry_bench.stats import summary_us
from consentry_domain import load_taxonomy
from consentry_domain.revenue import Pool
from consentry_domain.settlement import PoolTerms, settle_month
from consentry_events import USAGE
from consentry_events.usage import UsageReported, Use, read_usage
from consentry_kafka import KafkaConnection
from consentry_sdk import CheckSettings, connect
from consentry_sdk.usage import UsageReporter
from consentry_stack.stack import Stack

REPORTS = 200
USES_PER_REPORT = 1_000
REPORTERS = 12
HORIZON_MS = 35 * 86_400_000


def reports(isrcs: list[str], now: datetime | None = None) -> list[tuple[bytes, bytes]]:
    """``REPORTS`` usage reports (key, value) over ``isrcs``, all happening ``now``."""
    now = now or datetime.now(UTC)
    rng = random.Random(7)
    records = []
    for n in range(REPORTS):
        reporter = f"service:bench-{n % REPORTERS}"
        uses = tuple(
            Use(
                use_id=f"r{n}-{k}",
                isrc=rng.choice(isrcs),
                purpose="ai.training" if k % 2 else "ai.generation",
                units=Decimal(1),
                unit_kind="training_inclusion" if k % 2 else "generation",
                model="bench-model",
                model_version="1",
                happened_at=now,
            )
            for k in range(USES_PER_REPORT)
        )
        report = UsageReported(report_id=f"r{n}", reporter=reporter, uses=uses, recorded_at=now)
        records.append((reporter.encode(), report.model_dump_json().encode()))
    return records


async def _metered(metrics_url: str) -> float:
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(metrics_url)).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("consentry_meter_uses_total{")
    )


async def ingestion(stack: Stack, isrcs: list[str]) -> dict[str, Any]:
    metrics_url = f"http://127.0.0.1:{stack.metrics_port('meter')}/metrics"
    before = await _metered(metrics_url)
    records = reports(isrcs)
    total = REPORTS * USES_PER_REPORT
    producer = AIOKafkaProducer(
        bootstrap_servers=stack.kafka.bootstrap, acks="all", max_request_size=4 * 1024 * 1024
    )
    await producer.start()
    started = time.perf_counter()
    try:
        sent = [await producer.send(USAGE.name, value, key=key) for key, value in records]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    produced_s = time.perf_counter() - started
    while await _metered(metrics_url) - before < total:
        await asyncio.sleep(0.05)
    metered_s = time.perf_counter() - started
    reference = await _plain_consumer(stack.kafka.bootstrap, total)
    return {
        "uses": total,
        "reports": REPORTS,
        "produced_s": round(produced_s, 2),
        "meter_uses_per_s": round(total / metered_s),
        "plain_consumer_uses_per_s": round(reference),
    }


async def _plain_consumer(bootstrap: str, total: int) -> float:
    """Reference: a plain aiokafka consumer of the usage topic, decoding each report."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(USAGE.name, p) for p in range(USAGE.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        started, uses = time.perf_counter(), 0
        while uses < total:
            fetched = await consumer.getmany(timeout_ms=1000)
            for messages in fetched.values():
                for message in messages:
                    report = read_usage(message.value or b"")
                    if isinstance(report, UsageReported):
                        uses += len(report.uses)
        return uses / (time.perf_counter() - started)
    finally:
        await consumer.stop()


async def statement(stack: Stack) -> dict[str, Any]:
    started = time.perf_counter()
    log, usage = await read_logs(KafkaConnection(stack.kafka.bootstrap))
    read_s = time.perf_counter() - started
    pools = [
        PoolTerms(Pool("training", Decimal("100000.00"), "EUR", "equal"), "ai.training"),
        PoolTerms(Pool("outputs", Decimal("100000.00"), "EUR", "pro_rata"), "ai.generation"),
    ]
    period = f"{datetime.now(UTC):%Y-%m}"
    settled = settle_month(period, log, usage, pools, load_taxonomy(), HORIZON_MS)
    total_s = time.perf_counter() - started
    return {
        "log_records": len(log),
        "usage_records": len(usage),
        "read_s": round(read_s, 1),
        "settle_s": round(total_s - read_s, 1),
        "total_s": round(total_s, 1),
        "holders_paid": sum(len(s.payouts) for s in settled),
    }


async def check_while_reporting(stack: Stack, isrcs: list[str]) -> dict[str, Any]:
    """The cache-hit check's latency alone, then with every check reported."""
    rng = random.Random(3)
    hot = rng.sample(isrcs, 1000)
    out: dict[str, Any] = {}
    metrics_url = f"http://127.0.0.1:{stack.metrics_port('meter')}/metrics"
    before = await _metered(metrics_url)
    settings = CheckSettings(redis_url=stack.check_redis_url, cache_bound_s=600)
    async with connect(settings) as checker:
        while not await checker.verifiable():
            await asyncio.sleep(0.01)
        await checker.check_many(hot, "ai.dj")
        for name in ("alone", "reporting"):
            reporter = None
            if name == "reporting":
                reporter = UsageReporter(stack.check_url, stack.token("service:bench"))
                await reporter.start()
            samples = []
            for _ in range(200_000):
                isrc = hot[rng.randrange(1000)]
                t0 = time.perf_counter_ns()
                await checker.check(isrc, "ai.dj")
                if reporter is not None:
                    reporter.report(isrc, "ai.dj", 1, "generation", "bench-dj", "1")
                samples.append(time.perf_counter_ns() - t0)
            out[name] = summary_us(samples)
            if reporter is not None:
                await reporter.aclose(timeout_s=120)
                out["reported"] = reporter.tally.sent
                out["dropped"] = reporter.tally.dropped
    # The meter counts what was reported before the next step is measured beside it.
    while await _metered(metrics_url) - before < out["reported"]:
        await asyncio.sleep(0.1)
    return out

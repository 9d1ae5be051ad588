"""Issue 7, fault 8: the materialiser falls behind the log by more than the bound.

Alive but slowed (batches of one record, each Redis round trip delayed by the fault
proxy), it is handed a backlog and then a steady stream, far more than it can apply
(the lag is measured against the log end asked of the broker): checks must answer
'unverifiable' (deny) while the state is older than the bound -- even for a track whose
own answer has not changed -- the lag alert must fire (on the deployed rules, with their
``for`` cut to 2 s), and answers must come back once it has caught up.

"Older than the bound" is established from the log, not assumed: from bound + slack
after the backlog was acknowledged until Redis shows all of it applied, every answer
must be unverifiable. Earlier than that an allow may be right even after an
unverifiable: a worker vouches for nothing on a partition it has applied nothing from
yet, then up to the log time of what it has applied (CI once saw exactly that sequence
and failed a test that had called it wrong).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata
from redis.asyncio import Redis

from consentry_events import Choice, ConsentChanged, Scope
from consentry_stack.signed import signed
from consentry_stack.stack import Stack
from consentry_state import LogProgress
from tests.faults.proxy import FaultProxy, Mode, proxied_stack
from tests.support.events import decision_event
from tests.support.http import await_answer, check, register
from tests.support.ids import new_isrc, new_party, new_upc

BOUND_S = 2.0
STREAM_S = 20.0
BACKLOG = 1000
SLACK_S = 1.0
"""Heartbeat period (0.5 s) and more: how long a freshness claim may lag the log."""


@pytest.fixture
def slowed(tmp_path: Path) -> Iterator[tuple[Stack, FaultProxy]]:
    env = {
        "CONSENTRY_MATERIALISER_BATCH_MAX": "1",
        "CONSENTRY_CHECK_HEARTBEAT_BOUND_S": str(BOUND_S),
    }
    with proxied_stack(tmp_path / "stack", env) as (stack, _, redis):
        yield stack, redis


def consumer_lag(stack: Stack) -> int:
    text = httpx.get(f"http://127.0.0.1:{stack.metrics_port('materialiser')}/metrics").text
    values = re.findall(r"^consentry_materialiser_consumer_lag\{[^}]*\} ([\d.e+]+)$", text, re.M)
    return int(sum(float(v) for v in values))


@dataclass
class Backlog:
    """What the stream thread reports: when the backlog was acknowledged, and where."""

    acknowledged_at: float = 0.0
    """Wall-clock time by which every backlog record was in the log (0: not yet)."""
    last_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    """(topic, partition) -> offset of the backlog's last record in that partition."""
    sent: int = 0


def _stream(stack: Stack, seconds: float, stop: threading.Event, backlog: Backlog) -> None:
    """A backlog of BACKLOG changes at once, then about 300 a second: far more than the
    slowed worker applies (the backlog alone takes it over a minute)."""

    def batch(n: int) -> list[ConsentChanged]:
        return [decision_event(new_party(), "ai.dj", Choice.DENY, Scope.PARTY) for _ in range(n)]

    async def send(
        producer: AIOKafkaProducer, events: list[ConsentChanged]
    ) -> list[RecordMetadata]:
        pending = [
            await producer.send(topic, value, key=key, headers=headers)
            for topic, key, value, headers in signed(stack.event_signer(), events)
        ]
        sent: list[RecordMetadata] = await asyncio.gather(*pending)
        backlog.sent += len(sent)
        return sent

    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=stack.kafka.bootstrap, acks="all")
        await producer.start()
        try:
            for meta in await send(producer, batch(BACKLOG)):
                tp = (meta.topic, meta.partition)
                backlog.last_offsets[tp] = max(backlog.last_offsets.get(tp, -1), meta.offset)
            backlog.acknowledged_at = time.time()
            until = time.monotonic() + seconds
            while time.monotonic() < until and not stop.is_set():
                await send(producer, batch(30))
                await asyncio.sleep(0.1)
        finally:
            await producer.stop()

    asyncio.run(run())


def backlog_applied(redis_url: str, backlog: Backlog) -> bool:
    async def read() -> bool:
        redis = Redis.from_url(redis_url)
        try:
            applied = await LogProgress(redis).applied(backlog.last_offsets)
        finally:
            await redis.aclose()
        return all(applied[tp] >= offset for tp, offset in backlog.last_offsets.items())

    return asyncio.run(read())


def test_a_materialiser_far_behind_makes_checks_unverifiable_and_the_alert_fire(
    slowed: tuple[Stack, FaultProxy],
) -> None:
    stack, redis_proxy = slowed
    isrc = new_isrc()
    register(stack, isrc, new_upc(), [new_party()])
    await_answer(stack, isrc, "ai.training", "allow")
    prometheus = stack.start_prometheus(alert_for="2s")

    redis_proxy.set(Mode.DELAY, delay_s=0.05)
    stop = threading.Event()
    backlog = Backlog()
    stream = threading.Thread(target=_stream, args=(stack, STREAM_S, stop, backlog))
    stream.start()
    behind_checks = 0
    alert_states: set[str] = set()
    peak_lag = 0
    try:
        deadline = time.monotonic() + STREAM_S + 5
        while time.monotonic() < deadline:
            peak_lag = max(peak_lag, consumer_lag(stack))
            alert_states.add(prometheus.alerts().get("ConsentryConsumerLagGrowing", "inactive"))
            asked_at = time.time()
            answer = check(stack, isrc, "ai.training")
            # Provably older than the bound: every backlog record was in the log by
            # acknowledged_at, and (read after the answer) they are not all applied yet.
            since = asked_at - backlog.acknowledged_at
            due = backlog.acknowledged_at and since > BOUND_S + SLACK_S
            if due and not backlog_applied(stack.redis.url, backlog):
                behind_checks += 1
                assert answer["reasons"][0]["basis"] == "unverifiable", answer
                assert answer["answer"] == "deny", answer
            time.sleep(0.2)
    finally:
        stop.set()
        stream.join()
    redis_proxy.set(Mode.PASS)
    assert behind_checks >= 20, f"only {behind_checks} checks while provably behind"
    assert peak_lag > 1000, f"the lag alert's signal stayed at {peak_lag}"
    assert "firing" in alert_states, f"ConsentryConsumerLagGrowing was only {alert_states}"
    await_answer(stack, isrc, "ai.training", "allow", timeout_s=180)
    print(
        f"\n[fault] materialiser behind by up to {peak_lag} records: checks answered "
        f"unverifiable ({behind_checks} checks while provably older than the bound), "
        "ConsentryConsumerLagGrowing fired (rules' `for` cut to 2 s), "
        "then recovered"
    )

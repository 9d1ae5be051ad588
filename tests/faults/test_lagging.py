"""Issue 7, fault 8: the materialiser falls behind the log by more than the bound.

Alive but slowed (batches of one record, each Redis round trip delayed by the fault
proxy), it is handed a backlog and then a steady stream, far more than it can apply
(the lag is measured against the log end asked of the broker): checks must answer
'unverifiable' (deny) while the state is older than the bound -- even for a track whose
own answer has not changed -- the lag alert must fire (on the deployed rules, with their
``for`` cut to 2 s), and answers must come back once it has caught up.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from consentry_events import CONSENT_CHANGES, Choice, ConsentChanged, Scope, encode, partition_key
from consentry_stack.stack import Stack
from tests.conftest import new_isrc, new_party, new_upc
from tests.faults.proxy import FaultProxy, Mode, proxied_stack
from tests.integration.events import decision_event
from tests.integration.http import await_answer, check, register

BOUND_S = 2.0
STREAM_S = 20.0
BACKLOG = 1000


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


def _stream(stack: Stack, seconds: float, stop: threading.Event, sent: list[int]) -> None:
    """A backlog of BACKLOG changes at once, then about 300 a second: far more than the
    slowed worker applies, so the state stays older than the bound however fast or slow
    the machine is (the backlog alone takes the slowed worker over a minute)."""

    def batch(n: int) -> list[ConsentChanged]:
        return [decision_event(new_party(), "ai.dj", Choice.DENY, Scope.PARTY) for _ in range(n)]

    async def send(producer: AIOKafkaProducer, events: list[ConsentChanged]) -> None:
        pending = [
            await producer.send(CONSENT_CHANGES.name, encode(e), key=partition_key(e))
            for e in events
        ]
        await asyncio.gather(*pending)
        sent.append(len(events))

    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=stack.kafka.bootstrap, acks="all")
        await producer.start()
        try:
            await send(producer, batch(BACKLOG))
            until = time.monotonic() + seconds
            while time.monotonic() < until and not stop.is_set():
                await send(producer, batch(30))
                await asyncio.sleep(0.1)
        finally:
            await producer.stop()

    asyncio.run(run())


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
    sent: list[int] = []
    stream = threading.Thread(target=_stream, args=(stack, STREAM_S, stop, sent))
    stream.start()
    seen_unverifiable = False
    alert_states: set[str] = set()
    peak_lag = 0
    try:
        deadline = time.monotonic() + STREAM_S + 5
        while time.monotonic() < deadline:
            peak_lag = max(peak_lag, consumer_lag(stack))
            alert_states.add(prometheus.alerts().get("ConsentryConsumerLagGrowing", "inactive"))
            answer = check(stack, isrc, "ai.training")
            seen_unverifiable |= answer["reasons"][0]["basis"] == "unverifiable"
            # Once behind, it stays behind (the backlog outlasts this loop): no allow.
            assert answer["answer"] == "deny" or not seen_unverifiable, (answer, sum(sent))
            time.sleep(0.2)
    finally:
        stop.set()
        stream.join()
    redis_proxy.set(Mode.PASS)
    assert sum(sent) >= BACKLOG, f"only {sum(sent)} changes were sent"
    assert seen_unverifiable, "checks kept answering while the state was far behind"
    assert peak_lag > 1000, f"the lag alert's signal stayed at {peak_lag}"
    assert "firing" in alert_states, f"ConsentryConsumerLagGrowing was only {alert_states}"
    await_answer(stack, isrc, "ai.training", "allow", timeout_s=180)
    print(
        f"\n[fault] materialiser behind by up to {peak_lag} records: checks answered "
        "unverifiable, ConsentryConsumerLagGrowing fired (rules' `for` cut to 2 s), "
        "then recovered"
    )

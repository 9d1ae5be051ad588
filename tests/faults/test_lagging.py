"""Issue 7, fault 8: the materialiser falls behind the log by more than the bound.

Alive but slowed (batches of one record, each Redis round trip delayed by the fault
proxy), it is fed a steady stream faster than it can apply: checks must answer
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

from consentry_domain import ConsentState
from consentry_events import Choice, ConsentChanged, Scope, TrackChanged
from consentry_stack.stack import Stack
from tests.conftest import new_isrc, new_party, new_upc
from tests.faults.log import produce
from tests.faults.proxy import FaultProxy, Mode, proxied_stack
from tests.integration.events import decision_event
from tests.integration.http import await_answer, check, register

BOUND_S = 2.0
STREAM_S = 20.0


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


def _stream(stack: Stack, seconds: float) -> None:
    """About 300 changes a second: far more than the slowed worker applies."""

    async def run() -> None:
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            events: list[ConsentChanged | TrackChanged] = [
                decision_event(new_party(), "ai.dj", Choice.DENY, Scope.PARTY) for _ in range(30)
            ]
            await produce(stack.kafka.bootstrap, events, ConsentState())
            await asyncio.sleep(0.1)

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
    stream = threading.Thread(target=_stream, args=(stack, STREAM_S))
    stream.start()
    seen_unverifiable = False
    alert_states: set[str] = set()
    peak_lag = 0
    deadline = time.monotonic() + STREAM_S + 5
    while time.monotonic() < deadline:
        peak_lag = max(peak_lag, consumer_lag(stack))
        alert_states.add(prometheus.alerts().get("ConsentryConsumerLagGrowing", "inactive"))
        answer = check(stack, isrc, "ai.training")
        seen_unverifiable |= answer["reasons"][0]["basis"] == "unverifiable"
        assert answer["answer"] == "deny" or not seen_unverifiable or not stream.is_alive()
        time.sleep(0.2)
    stream.join()
    redis_proxy.set(Mode.PASS)
    assert seen_unverifiable, "checks kept answering while the state was far behind"
    assert peak_lag > 1000, f"the lag alert's signal stayed at {peak_lag}"
    assert "firing" in alert_states, f"ConsentryConsumerLagGrowing was only {alert_states}"
    await_answer(stack, isrc, "ai.training", "allow", timeout_s=180)
    print(
        f"\n[fault] materialiser behind by up to {peak_lag} records: checks answered "
        "unverifiable, ConsentryConsumerLagGrowing fired (rules' `for` cut to 2 s), "
        "then recovered"
    )

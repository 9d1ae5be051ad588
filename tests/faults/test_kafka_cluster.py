"""Issue 7, fault 5: a three-broker KRaft cluster (replication 3, min.insync.replicas 2);
one broker killed during writes, then restarted.

No acknowledged change is lost: every 202 is in the log at its token and applied. The
checks keep answering throughout, and never allow the track the label opted out.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from consentry_stack.kafka import KafkaCluster
from consentry_stack.stack import Stack
from tests.support.acknowledged import acknowledged, verify_acknowledged, write_for
from tests.support.http import await_answer, decide, register
from tests.support.ids import new_isrc, new_party, new_upc
from tests.support.watch import Answered, watch_checks


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with Stack(
        tmp_path / "stack",
        kafka_nodes=3,
        canary_interval_s=60,
        env_overrides={"CONSENTRY_WRITE_PRODUCE_TIMEOUT_S": "5"},
    ).running(timeout_s=90) as up:
        yield up


def test_a_broker_killed_during_writes_loses_no_acknowledged_change(stack: Stack) -> None:
    assert isinstance(stack.kafka, KafkaCluster)
    label, isrc = new_party("label"), new_isrc()
    register(stack, isrc, new_upc(), [new_party(), label])
    decide(stack, label, "ai.training", "deny", "party")
    await_answer(stack, isrc, "ai.training", "deny")
    victim = stack.kafka.nodes[1]
    results: list[tuple[str, int, dict[str, object]]] = []

    async def scenario() -> list[Answered]:
        writes = asyncio.create_task(write_for(stack, 16.0, results))
        watching = asyncio.create_task(watch_checks(stack, isrc, "ai.training", 16.0))
        await asyncio.sleep(3)
        victim.process.signal(signal.SIGKILL)
        victim.stop()
        await asyncio.sleep(5)
        await asyncio.to_thread(victim.launch)
        await asyncio.to_thread(victim.wait_ready, 60)
        await writes
        return await watching

    answered = asyncio.run(scenario())
    assert all(a.status == 200 for a in answered), answered
    allowed = [a for a in answered if a.answer != "deny"]
    assert not allowed, f"allowed during the fault: {allowed}"
    checks = [a.basis for a in answered]
    accepted = acknowledged(results)
    failed = [(status, body) for _, status, body in results if status != 202]
    assert accepted, "writes must go on while one broker of three is down"
    # 503 says whether the change may exist; 0 is a connection lost before any answer,
    # which the client must treat as unknown too. Neither is an acknowledgement.
    assert all(status in (503, 0) for status, _ in failed), failed

    asyncio.run(verify_acknowledged(stack, accepted))
    decided = sum(1 for basis in checks if basis == "decision")
    print(
        f"\n[fault] broker 2 of 3 killed and restarted: {len(accepted)} writes acknowledged, "
        f"all in the log and applied; {len(failed)} answered 503; {len(checks)} checks, "
        f"{decided} answered from the decision, the rest unverifiable; none allowed"
    )

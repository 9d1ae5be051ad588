"""Issue 7, fault 4: the broker paused (SIGSTOP) while writes arrive, then resumed.

Every write either gets 202 -- and is then in the log at its token and applied -- or gets
an error; none gets 202 and is lost. After SIGCONT the backlog is applied.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from consentry_stack.stack import Stack
from tests.support.acknowledged import acknowledged, outcome_of, verify_acknowledged, write_for


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with Stack(
        tmp_path / "stack",
        canary_interval_s=60,
        # Shorter than the pause, so writes also meet the "not acknowledged" path.
        env_overrides={"CONSENTRY_WRITE_PRODUCE_TIMEOUT_S": "3"},
    ).running() as up:
        try:
            yield up
        finally:
            up.kafka.processes[0].signal(signal.SIGCONT)  # never stop a paused broker


def test_paused_broker_never_yields_an_acknowledged_write_that_is_lost(stack: Stack) -> None:
    results: list[tuple[str, int, dict[str, object]]] = []

    async def scenario() -> None:
        writes = asyncio.create_task(write_for(stack, 14.0, results))
        await asyncio.sleep(3)
        stack.kafka.processes[0].signal(signal.SIGSTOP)
        await asyncio.sleep(6)
        stack.kafka.processes[0].signal(signal.SIGCONT)
        await writes

    asyncio.run(scenario())
    accepted = acknowledged(results)
    failed = [(status, body) for _, status, body in results if status != 202]
    assert accepted, "some writes must have been acknowledged"
    assert failed, "a pause longer than the produce timeout must fail some writes"
    # 503 says whether the change may exist; 0 is a connection lost before any answer,
    # which the client must treat as unknown too. Neither is an acknowledgement.
    assert all(status in (503, 0) for status, _ in failed), failed
    assert all(outcome_of(body) in {"unknown", "not_written"} for status, body in failed if status)

    asyncio.run(verify_acknowledged(stack, accepted))
    print(
        f"\n[fault] broker paused 6 s: {len(accepted)} writes acknowledged and applied, "
        f"{len(failed)} answered 503, none lost"
    )

"""Issue 7, fault 4: the broker paused (SIGSTOP) while writes arrive, then resumed.

Every write either gets 202 -- and is then in the log at its token and applied -- or gets
an error; none gets 202 and is lost. After SIGCONT the backlog is applied.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from redis.asyncio import Redis

from consentry_events import CONSENT_CHANGES, ConsentChanged, decode
from consentry_events.tokens import parse_token
from consentry_stack.stack import Stack
from consentry_state import keys
from tests.conftest import new_party


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(
        tmp_path / "stack",
        canary_interval_s=60,
        # Shorter than the pause, so writes also meet the "not acknowledged" path.
        env_overrides={"CONSENTRY_WRITE_PRODUCE_TIMEOUT_S": "3"},
    )
    try:
        running.start_infra()
        running.start_services()
        yield running
    finally:
        running.kafka.process.signal(signal.SIGCONT)
        running.stop()


async def write_for(
    url: str, seconds: float, results: list[tuple[str, int, dict[str, object]]]
) -> None:
    """Post opt-outs back to back for ``seconds``; record every outcome."""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=30) as http:

        async def one(party: str) -> None:
            body = {"party": party, "purpose": "ai.training", "choice": "deny", "scope": "party"}
            try:
                response = await http.post(f"{url}/v1/decisions", json=body)
                results.append((party, response.status_code, response.json()))
            except httpx.HTTPError as exc:
                results.append((party, 0, {"error": repr(exc)}))

        while time.monotonic() < deadline:
            await asyncio.gather(*(one(new_party()) for _ in range(5)))
            await asyncio.sleep(0.02)


async def in_log(bootstrap: str, partition: int, offset: int) -> ConsentChanged:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(CONSENT_CHANGES.name, partition)
        consumer.assign([tp])
        consumer.seek(tp, offset)
        record = await asyncio.wait_for(consumer.getone(tp), timeout=10)
        event = decode(record.value)
        assert isinstance(event, ConsentChanged)
        return event
    finally:
        await consumer.stop()


def test_paused_broker_never_yields_an_acknowledged_write_that_is_lost(stack: Stack) -> None:
    results: list[tuple[str, int, dict[str, object]]] = []

    async def scenario() -> None:
        writes = asyncio.create_task(write_for(stack.write_url, 14.0, results))
        await asyncio.sleep(3)
        stack.kafka.process.signal(signal.SIGSTOP)
        await asyncio.sleep(6)
        stack.kafka.process.signal(signal.SIGCONT)
        await writes

    asyncio.run(scenario())
    accepted = [(party, body) for party, status, body in results if status == 202]
    failed = [(status, body) for _, status, body in results if status != 202]
    assert accepted, "some writes must have been acknowledged"
    assert failed, "a pause longer than the produce timeout must fail some writes"
    assert all(status == 503 for status, _ in failed), failed
    assert all(body.get("outcome") in {"unknown", "not_written"} for _, body in failed)

    async def verify() -> None:
        redis = Redis.from_url(stack.redis.url)
        try:
            for party, body in accepted:
                token = parse_token(str(body["token"]))
                event = await in_log(stack.kafka.bootstrap, token.partition, token.offset)
                assert (event.party, str(event.decision_id)) == (party, body["decision_id"])
                field = keys.watermark_field(token.topic, token.partition)
                deadline = time.monotonic() + 30
                while int(await redis.hget(keys.WATERMARKS, field) or -1) < token.offset:
                    assert time.monotonic() < deadline, f"acknowledged {token} never applied"
                    await asyncio.sleep(0.05)
        finally:
            await redis.aclose()

    asyncio.run(verify())
    print(
        f"\n[fault] broker paused 6 s: {len(accepted)} writes acknowledged and applied, "
        f"{len(failed)} answered 503, none lost"
    )

"""Issue 15: no enforcement change is lost across a Redis loss.

Redis loses everything -- the check state alone, or the enforcer's store too -- and
while the state is rebuilt from Kafka a label opts out of one purpose and back into
another it had opted out of before the loss. Downstream must receive both changes for
every one of the label's tracks: the opt-out (not taken from a half-rebuilt state as
the new baseline) and the return to the default (which a lost store, believing nothing
had ever been published, would have hidden). What downstream was told is read back from
Kafka, so the earlier opt-out is not published again, and nobody else's tracks are
touched.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiokafka import TopicPartition
from redis.asyncio import Redis

from consentry_enforcer.settings import GROUP as ENFORCER
from consentry_events import ENFORCEMENT, Choice, EnforcementChanged, Scope
from consentry_kafka import KafkaConnection, all_partitions, read_to_end
from consentry_stack.stack import Stack
from consentry_state import keys
from tests.support.events import decision_event, track_event
from tests.support.log import produce, wait_consumed
from tests.support.state import wait_applied, wait_whole

LABEL = "label:rebuilt"
BYSTANDER = "label:bystander"
OURS = 3_000
THEIRS = 12_000
TAXONOMY = '[purposes]\n"ai" = "allow"\n"ai.training" = "allow"\n"ai.dj" = "allow"\n'


@pytest.fixture
def infra(tmp_path: Path) -> Iterator[Stack]:
    (tmp_path / "purposes.toml").write_text(TAXONOMY)
    stack = Stack(
        tmp_path / "stack",
        env_overrides={"CONSENTRY_ENFORCER_PURPOSES_FILE": str(tmp_path / "purposes.toml")},
    )
    stack.start_infra()
    try:
        yield stack
    finally:
        stack.stop()


async def feed_ends(kafka: KafkaConnection) -> dict[TopicPartition, int]:
    """Where the change feed ends now: what is told after this is after the loss."""
    ends: dict[TopicPartition, int] = {}
    async for records in read_to_end(kafka, await all_partitions(kafka, [ENFORCEMENT.name])):
        for r in records:
            tp = TopicPartition(r.topic, r.partition)
            ends[tp] = max(ends.get(tp, 0), r.offset + 1)
    return ends


async def told_since(
    kafka: KafkaConnection, start: dict[TopicPartition, int]
) -> list[EnforcementChanged]:
    parts = await all_partitions(kafka, [ENFORCEMENT.name])
    found = []
    async for records in read_to_end(kafka, parts, start=start):
        for r in records:
            assert r.value is not None
            found.append(EnforcementChanged.model_validate_json(r.value))
    return found


def recoveries(stack: Stack) -> float:
    text = httpx.get(f"http://127.0.0.1:{stack.metrics_port('enforcer')}/metrics").text
    found = re.search(r"^consentry_enforcer_store_recoveries_total (\S+)$", text, re.M)
    assert found is not None, "the enforcer exports no recovery count"
    return float(found[1])


@pytest.mark.parametrize("lost", ["check state", "check state and enforcer store"])
def test_changes_made_while_redis_is_rebuilt_reach_downstream(infra: Stack, lost: str) -> None:
    ours = [
        track_event(f"ZZREB{i:07d}", f"{i // 10:013d}", [f"artist:r{i}", LABEL])
        for i in range(OURS)
    ]
    theirs = [
        track_event(f"ZZOTH{i:07d}", f"{9_000_000 + i // 10:013d}", [f"artist:o{i}", BYSTANDER])
        for i in range(THEIRS)
    ]
    bootstrap = infra.kafka.bootstrap
    kafka = KafkaConnection(bootstrap)
    processes = [infra.materialiser(), infra.enforcer()]

    async def scenario() -> tuple[list[EnforcementChanged], bool]:
        redis = Redis.from_url(infra.redis.url)
        store = Redis.from_url(infra.store.url)
        try:
            await wait_whole(redis, timeout_s=60)
            loaded = await produce(infra, [*ours, *theirs])
            before = await produce(
                infra, [decision_event(LABEL, "ai.dj", Choice.DENY, Scope.PARTY)]
            )
            await wait_applied(redis, {**loaded, **before}, timeout_s=120)
            await wait_consumed(bootstrap, ENFORCER, {**loaded, **before}, timeout_s=120)
            start = await feed_ends(kafka)

            await redis.flushall()
            if lost == "check state and enforcer store":
                await store.flushall()
            during = await produce(
                infra,
                [
                    decision_event(LABEL, "ai.training", Choice.DENY, Scope.PARTY),
                    decision_event(LABEL, "ai.dj", Choice.ALLOW, Scope.PARTY),
                ],
            )
            still_rebuilding = not await redis.exists(keys.READY)
            await wait_whole(redis, timeout_s=120)
            await wait_consumed(bootstrap, ENFORCER, during, timeout_s=180)
            return await told_since(kafka, start), still_rebuilding
        finally:
            await redis.aclose()
            await store.aclose()

    for process in processes:
        process.start()
    try:
        events, during_rebuild = asyncio.run(scenario())
        recovered = recoveries(infra)
    finally:
        for process in processes:
            process.stop()

    assert during_rebuild, "the decisions were accepted after the rebuild had finished"
    last: dict[tuple[str, str], str] = {}
    for event in events:
        last[event.isrc, event.purpose] = event.answer
    mine = {t.isrc for t in ours}
    assert {isrc for isrc, _ in last} <= mine, "a bystander's track was told of a change"
    for purpose, answer in (("ai.training", "deny"), ("ai.dj", "allow")):
        missing = [i for i in sorted(mine) if last.get((i, purpose)) != answer]
        assert not missing, f"{len(missing)} tracks never told {purpose} {answer}: {missing[:3]}"
    repeated = [e for e in events if (e.purpose, e.answer) == ("ai.dj", "deny")]
    assert not repeated, "what downstream had been told before the loss was told again"
    assert recovered == (2 if lost.endswith("store") else 1)
    print(
        f"\n[fault] {lost} lost; decisions made during the rebuild: {len(events):,} changes "
        f"told for {len(mine):,} tracks, none missing; store rebuilt {recovered:g}x"
    )

"""The enforcer killed (SIGKILL) in the middle of a label-wide fan-out over 100,000
tracks, then restarted: the fan-out resumes where it stopped -- it does not start over --
and every track's change is published (none missing; repeats allowed, counted)."""

from __future__ import annotations

import asyncio
import re
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from consentry_enforcer.settings import GROUP as ENFORCER
from consentry_events import CONSENT_CHANGES, ENFORCEMENT, Choice, EnforcementChanged, Scope
from consentry_kafka import KafkaConnection, all_partitions, read_to_end
from consentry_stack.stack import Stack
from tests.support.events import decision_event, track_event
from tests.support.eventually import eventually
from tests.support.log import Marks, produce, wait_consumed
from tests.support.state import wait_applied, wait_whole

TRACKS = 100_000
PER_RELEASE = 10
LABEL = "label:fanout"
TAXONOMY = '[purposes]\n"ai" = "allow"\n"ai.training" = "allow"\n'
CHUNK = 500


@pytest.fixture
def infra(tmp_path: Path) -> Iterator[Stack]:
    (tmp_path / "purposes.toml").write_text(TAXONOMY)
    stack = Stack(
        tmp_path / "stack",
        env_overrides={
            "CONSENTRY_ENFORCER_PURPOSES_FILE": str(tmp_path / "purposes.toml"),
            "CONSENTRY_ENFORCER_SESSION_TIMEOUT_S": "6",
            "CONSENTRY_ENFORCER_CHUNK": str(CHUNK),
        },
    )
    stack.start_infra()
    try:
        yield stack
    finally:
        stack.stop()


def remaining_releases(stack: Stack) -> float | None:
    """The enforcer's gauge, or None while it does not answer."""
    try:
        text = httpx.get(f"http://127.0.0.1:{stack.metrics_port('enforcer')}/metrics").text
    except httpx.HTTPError:
        return None
    found = re.search(r"^consentry_enforcer_fanout_remaining_releases (\S+)$", text, re.M)
    return None if found is None else float(found[1])


async def told(bootstrap: str, offset: int) -> list[EnforcementChanged]:
    """Every enforcement event the decision at ``offset`` caused."""
    found = []
    kafka = KafkaConnection(bootstrap)
    async for records in read_to_end(kafka, await all_partitions(kafka, [ENFORCEMENT.name])):
        for record in records:
            assert record.value is not None
            event = EnforcementChanged.model_validate_json(record.value)
            cause = event.cause
            if cause is not None and (cause.topic, cause.offset) == (CONSENT_CHANGES.name, offset):
                found.append(event)
    return found


def test_a_fan_out_interrupted_by_a_crash_resumes_and_misses_nothing(infra: Stack) -> None:
    catalogue = [
        track_event(f"ZZFAN{i:07d}", f"{i // PER_RELEASE:013d}", [f"artist:fan{i // 10}", LABEL])
        for i in range(TRACKS)
    ]
    releases = TRACKS // PER_RELEASE
    bootstrap = infra.kafka.bootstrap
    materialiser = infra.materialiser()
    processes = [materialiser, infra.enforcer()]

    def in_the_middle() -> bool:
        left = remaining_releases(infra)
        return left is not None and 0 < left < releases * 0.7

    async def scenario() -> tuple[int, list[EnforcementChanged]]:
        redis = Redis.from_url(infra.redis.url)
        try:
            await wait_whole(redis, timeout_s=60)
            loaded = await produce(infra, catalogue)
            await wait_applied(redis, loaded, timeout_s=180)
        finally:
            await redis.aclose()
        await wait_consumed(bootstrap, ENFORCER, loaded, timeout_s=300)
        opt_out = decision_event(LABEL, "ai.training", Choice.DENY, Scope.PARTY)
        decided: Marks = await produce(infra, [opt_out])
        ((_, offset),) = decided.items()
        await asyncio.to_thread(eventually, in_the_middle, 120, "a third done", 0.05)
        processes[1].signal(signal.SIGKILL)
        processes[1].stop()
        before = len(await told(bootstrap, offset))
        assert 0 < before < TRACKS, f"the kill must land mid fan-out ({before} told)"
        processes[1] = infra.enforcer()
        processes[1].start()
        await wait_consumed(bootstrap, ENFORCER, decided, timeout_s=300)
        return before, await told(bootstrap, offset)

    for process in processes:
        process.start()
    try:
        before, events = asyncio.run(scenario())
    finally:
        for process in processes:
            process.stop()

    per_track = Counter(e.isrc for e in events)
    assert set(per_track) == {t.isrc for t in catalogue}, "a track was never told"
    assert {(e.purpose, e.answer, e.previous) for e in events} == {("ai.training", "deny", "allow")}
    repeats = len(events) - TRACKS
    assert repeats <= 2 * CHUNK, f"{repeats} repeats: the fan-out started over"
    print(
        f"\n[fault] enforcer killed with {before:,} of {TRACKS:,} tracks told: resumed, "
        f"all {TRACKS:,} told, {repeats} told twice"
    )

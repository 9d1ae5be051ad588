"""The Redis state in tests, through ``consentry_state``'s own readers: how much of the
log is applied, whether it is whole, and whether it equals a replay of the log.

Two hooks break the rules on purpose, for tests that must change Redis behind the
system's back; they are the only place the tests know a stored value's form.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

from consentry_domain import ConsentState, load_taxonomy
from consentry_events import TrackStatus
from consentry_sdk import ConsentChecker
from consentry_state import (
    LogProgress,
    RebuildMarks,
    StateReader,
    StateWriter,
    StoredState,
    layout,
)
from tests.support.eventually import eventually_async
from tests.support.log import Marks

TAXONOMY = load_taxonomy()
PURPOSES = sorted(TAXONOMY.defaults)


async def applied_fraction(redis: Redis, marks: Marks) -> float:
    applied = await LogProgress(redis).applied(marks)
    done = sum(min(applied[tp], mark) + 1 for tp, mark in marks.items())
    return done / sum(mark + 1 for mark in marks.values())


async def wait_fraction(redis: Redis, marks: Marks, fraction: float, timeout_s: float) -> None:
    async def reached() -> bool:
        return await applied_fraction(redis, marks) >= fraction

    await eventually_async(reached, timeout_s, f"{fraction:.0%} of the log applied", 0.005)


async def wait_applied(redis: Redis, marks: Marks, timeout_s: float = 30.0) -> None:
    """Until every partition in ``marks`` has applied its offset."""
    progress = LogProgress(redis)
    assert await progress.wait_applied(marks, timeout_s), f"{marks} not applied in {timeout_s}s"


async def wait_whole(redis: Redis, timeout_s: float) -> None:
    """Until the materialiser declares the state whole (and so records its freshness)."""
    progress = LogProgress(redis)

    async def whole() -> bool:
        return await progress.is_whole() and bool(await progress.freshness())

    await eventually_async(whole, timeout_s, "the state declared whole", 0.05)


async def compare(redis: Redis, replay: ConsentState) -> None:
    """Redis holds exactly the replay's tracks and slots, and every check answers as the
    replay does."""
    stored = StoredState(redis)
    for isrc, (offset, track) in replay.tracks.items():
        assert await stored.track(isrc) == (offset, track), isrc
    for party in {key.party for key in replay.slots}:
        slots = await stored.party_slots(party)
        expected = {key: slot for key, slot in replay.slots.items() if key.party == party}
        assert slots == expected, f"{party}: Redis differs from the replay of the log"
    checker = ConsentChecker(StateReader(redis), TAXONOMY)
    # After a failover the new owners must first vouch for their partitions' freshness;
    # until then every answer is rightly 'unverifiable'.
    await eventually_async(checker.verifiable, 30, "the state verifiable", 0.1)
    now = time.time_ns() // 1_000_000
    for purpose in PURPOSES:
        answers = await checker.check_many(sorted(replay.tracks), purpose)
        for isrc, answer in answers.items():
            assert answer == replay.check(isrc, purpose, TAXONOMY, now), (isrc, purpose)


async def declare_whole(redis: Redis, fresh_until_ms: int | None = None) -> None:
    """For a Redis no materialiser writes: declare the state whole, through the rebuild's
    own markers, and vouch for one partition's freshness (now by default)."""
    marks = RebuildMarks(redis)
    epoch = await marks.epoch()
    assert epoch is not None
    await marks.mark_replayed(epoch, 1, [("test", 0)])
    await vouch(redis, fresh_until_ms)


async def vouch(redis: Redis, fresh_until_ms: int | None = None) -> None:
    """The heartbeat, as a worker writes it: complete up to ``fresh_until_ms``."""
    ms = time.time_ns() // 1_000_000 if fresh_until_ms is None else fresh_until_ms
    assert await StateWriter(redis).beat({("test", 0): ms}), "the state is not whole"


async def retire_behind_the_caches_back(redis: Redis, isrc: str) -> None:
    """Hook: retire a track in Redis directly -- no invalidation is published."""
    key, field = layout.track_place(isrc)
    raw = await redis.hget(key, field)
    assert raw is not None
    record, slots = layout.split_track(raw)
    decoded = layout.decode_track(isrc, record)
    assert decoded is not None
    offset, track = decoded
    head = f"{offset}|{track.upc}|{layout.status_code(TrackStatus.RETIRED)}|"
    tail = layout.record_tail(track.disclosure, track.facts)
    value = head + " ".join(track.parties) + "|" + tail + (f"\n{slots}" if slots else "")
    await redis.hset(key, field, value)

"""The Redis scripts on a real Redis: they must do exactly what the pure domain does."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from consentry_domain import ApplyOutcome, ConsentState, Slot, SlotKey, Track, load_taxonomy, merge
from consentry_domain.state import entry_of
from consentry_events import (
    CATALOGUE,
    CONSENT_CHANGES,
    AnyEvent,
    Choice,
    ConsentChanged,
    ConsentChangedMany,
    Scope,
    TrackChanged,
)
from consentry_events.logged import LoggedEvent, Position
from consentry_sdk import ConsentChecker
from consentry_stack.stack import Stack
from consentry_state import LogProgress, StateReader, StateWriter, StoredState
from tests.support.events import decision_event, track_event
from tests.support.ids import new_isrc, new_party, new_upc

TAXONOMY = load_taxonomy()
T = TypeVar("T")

ON_REDIS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
"""A property checked on Redis: each example round-trips, and uses parties of its own."""
WHO = st.sampled_from([0, 1])  # which of the test's two parties decides
PURPOSES = st.sampled_from(sorted(TAXONOMY.defaults))


def now_ms() -> int:
    return time.time_ns() // 1_000_000


windows = st.one_of(
    st.tuples(st.none(), st.none()),
    st.tuples(st.integers(0, 10**12), st.none()),
    st.tuples(st.none(), st.integers(1, 10**12)),
    st.tuples(st.integers(0, 10**12), st.integers(10**12 + 1, 2 * 10**12)),
)


@st.composite
def deliveries(draw: st.DrawFn) -> list[tuple[int, Choice, tuple[int | None, int | None]]]:
    offsets = draw(st.lists(st.integers(0, 10**9), min_size=1, max_size=10, unique=True))
    history = []
    for offset in offsets:
        choice = draw(st.sampled_from(list(Choice)))
        window = (None, None) if choice is Choice.WITHDRAWN else draw(windows)
        history.append((offset, choice, window))
    extra = draw(st.lists(st.sampled_from(history), max_size=5))
    return list(draw(st.permutations(history + extra)))


@pytest.fixture
def state_redis(stack: Stack) -> str:
    return stack.redis.url


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(delivered=deliveries())
def test_lua_merge_equals_the_domain_merge(
    state_redis: str, delivered: list[tuple[int, Choice, tuple[int | None, int | None]]]
) -> None:
    party, purpose = new_party(), "ai.training"
    records = [
        LoggedEvent(
            CONSENT_CHANGES.name,
            0,
            offset,
            decision_event(
                party, purpose, choice, Scope.PARTY, start=start, end=end, decision_id_seed=offset
            ),
        )
        for offset, choice, (start, end) in delivered
    ]

    async def apply() -> list[ApplyOutcome]:
        client = Redis.from_url(state_redis)
        try:
            return await StateWriter(client).apply(records)
        finally:
            await client.aclose()

    async def stored() -> Slot | None:
        client = Redis.from_url(state_redis)
        try:
            slots = await StoredState(client).party_slots(party)
        finally:
            await client.aclose()
        return slots.get(SlotKey(party, Scope.PARTY, "", purpose))

    outcomes = run(apply())
    expected, expected_outcomes = Slot(), []
    for record in records:
        assert isinstance(record.event, ConsentChanged)
        expected, outcome = merge(expected, entry_of(record.event, record.offset))
        expected_outcomes.append(outcome)
    assert outcomes == expected_outcomes
    assert run(stored()) == expected


def test_tracks_only_move_forward(state_redis: str) -> None:
    isrc, upc = new_isrc(), new_upc()
    newer = track_event(isrc, upc, ["artist:x", "label:y"])
    older = track_event(isrc, upc, ["artist:x"])
    topic = CATALOGUE.name

    async def apply() -> list[ApplyOutcome]:
        client = Redis.from_url(state_redis)
        try:
            writer = StateWriter(client)
            first = await writer.apply([LoggedEvent(topic, 3, 10, newer)])
            return first + await writer.apply(
                [LoggedEvent(topic, 3, 9, older), LoggedEvent(topic, 3, 10, newer)]
            )
        finally:
            await client.aclose()

    async def stored() -> tuple[object, int]:
        client = Redis.from_url(state_redis)
        try:
            track = await StoredState(client).track(isrc)
            applied = await LogProgress(client).applied([(topic, 3)])
        finally:
            await client.aclose()
        return track, applied[(topic, 3)]

    assert run(apply()) == [ApplyOutcome.APPLIED, ApplyOutcome.STALE, ApplyOutcome.DUPLICATE]
    track, applied = run(stored())
    assert track == (10, Track(isrc, upc, ("artist:x", "label:y")))
    assert applied >= 10


@ON_REDIS
@given(
    choices=st.lists(
        st.tuples(
            WHO,
            st.sampled_from(list(Scope)),
            PURPOSES,
            st.sampled_from([Choice.ALLOW, Choice.DENY, Choice.WITHDRAWN]),
        ),
        max_size=12,
    ),
    purpose=PURPOSES,
)
def test_checks_through_redis_equal_the_replayed_domain(
    state_redis: str, choices: list[tuple[int, Scope, str, Choice]], purpose: str
) -> None:
    parties = [new_party("artist"), new_party("label")]
    isrc, upc = new_isrc(), new_upc()
    track = track_event(isrc, upc, parties)
    records: list[LoggedEvent[ConsentChanged | TrackChanged]] = [
        LoggedEvent(CATALOGUE.name, 0, 1, track)
    ]
    for offset, (who, scope, path, choice) in enumerate(choices, start=1):
        records.append(
            LoggedEvent(
                CONSENT_CHANGES.name,
                0,
                offset,
                decision_event(
                    parties[who], path, choice, scope, upc=upc, isrc=isrc, decision_id_seed=offset
                ),
            )
        )
    replay = ConsentState()
    for record in records:
        replay.apply(record.event, record.offset)

    async def check() -> bool:
        client = Redis.from_url(state_redis)
        try:
            await StateWriter(client).apply(records)
            checker = ConsentChecker(StateReader(client), TAXONOMY)
            answer = await checker.check(isrc, purpose)
            return answer == replay.check(isrc, purpose, TAXONOMY, now_ms())
        finally:
            await client.aclose()

    assert run(check())


def test_track_view_round_trip(state_redis: str) -> None:
    isrc, upc = new_isrc(), new_upc()

    async def gather() -> Track | None:
        client = Redis.from_url(state_redis)
        try:
            await StateWriter(client).apply(
                [LoggedEvent(CATALOGUE.name, 1, 7, track_event(isrc, upc, ["artist:q"]))]
            )
            view = (await StateReader(client).gather([isrc], "ai")).tracks[isrc]
            return None if view is None else view.track
        finally:
            await client.aclose()

    assert run(gather()) == Track(isrc, upc, ("artist:q",))


def test_a_dead_lettered_record_moves_only_the_watermark(state_redis: str) -> None:
    topic = f"test.{new_party()}"  # a log of this test's own: shared watermarks stay put

    async def apply() -> tuple[list[ApplyOutcome], int]:
        client = Redis.from_url(state_redis)
        try:
            outcomes = await StateWriter(client).apply([Position(topic, 4, 7)])
            return outcomes, (await LogProgress(client).applied([(topic, 4)]))[(topic, 4)]
        finally:
            await client.aclose()

    assert run(apply()) == ([ApplyOutcome.SKIPPED], 7)


@ON_REDIS
@given(
    decisions=st.lists(
        st.tuples(
            WHO,
            st.sampled_from([Scope.RELEASE, Scope.TRACK]),
            PURPOSES,
            st.sampled_from(list(Choice)),
            st.integers(1, 15),  # which of the works, as bits
        ),
        min_size=1,
        max_size=8,
    )
)
def test_decisions_on_many_works_through_redis_equal_the_replayed_domain(
    state_redis: str, decisions: list[tuple[int, Scope, str, Choice, int]]
) -> None:
    """The Lua apply of a decision on many works: the same outcomes (a redelivery is a
    duplicate or stale), slots, current decisions and check answers as the replayed domain."""
    parties = [new_party("artist"), new_party("label")]
    upcs = [new_upc(), new_upc()]
    isrcs = [new_isrc() for _ in range(4)]
    records: list[LoggedEvent[AnyEvent]] = [
        LoggedEvent(CATALOGUE.name, 0, i, track_event(isrc, upcs[i % 2], parties))
        for i, isrc in enumerate(isrcs)
    ]
    for offset, (who, scope, purpose, choice, bits) in enumerate(decisions, start=1):
        pool = isrcs if scope is Scope.TRACK else [*upcs, new_upc(), new_upc()]
        works = tuple(work for i, work in enumerate(pool) if bits >> i & 1)
        event = ConsentChangedMany(
            decision_id=uuid.UUID(int=offset),
            party=parties[who],
            purpose=purpose,
            choice=choice,
            scope=scope,
            works=works,
            recorded_at=datetime.now(UTC),
        )
        records.append(LoggedEvent(CONSENT_CHANGES.name, 0, offset, event))
    replay = ConsentState()
    expected = [replay.apply(r.event, r.offset) for r in records]
    redelivered = [replay.apply(r.event, r.offset) for r in records]
    at = now_ms()

    async def through_redis() -> None:
        client = Redis.from_url(state_redis)
        try:
            writer = StateWriter(client)
            assert await writer.apply(records) == expected
            assert await writer.apply(records) == redelivered
            checker = ConsentChecker(StateReader(client), TAXONOMY)
            for isrc in isrcs:
                for purpose in sorted(TAXONOMY.defaults):
                    answer = await checker.check(isrc, purpose)
                    assert answer == replay.check(isrc, purpose, TAXONOMY, at)
            for party in parties:
                slots = await StoredState(client).party_slots(party)
                assert slots == {k: s for k, s in replay.slots.items() if k.party == party}
        finally:
            await client.aclose()

    run(through_redis())

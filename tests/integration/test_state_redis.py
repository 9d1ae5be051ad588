"""The Redis scripts on a real Redis: they must do exactly what the pure domain does."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from consentry_domain import ConsentState, Outcome, Slot, SlotKey, Track, load_taxonomy, merge
from consentry_domain.state import entry_of
from consentry_events import Choice, ConsentChanged, Scope
from consentry_sdk import ConsentChecker
from consentry_stack.stack import Stack
from consentry_state import StateReader, StateWriter, keys
from consentry_state.slotcodec import decode_slot
from consentry_state.writer import Applied
from tests.conftest import new_isrc, new_party, new_upc
from tests.integration.events import decision_event, track_event

TAXONOMY = load_taxonomy()


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


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(delivered=deliveries())
def test_lua_merge_equals_the_domain_merge(
    state_redis: str, delivered: list[tuple[int, Choice, tuple[int | None, int | None]]]
) -> None:
    party, purpose = new_party(), "ai.training"
    records = [
        Applied(
            "consentry.consent-changes.v1",
            0,
            offset,
            decision_event(
                party, purpose, choice, Scope.PARTY, start=start, end=end, decision_id_seed=offset
            ),
        )
        for offset, choice, (start, end) in delivered
    ]

    async def apply() -> list[Outcome]:
        client = Redis.from_url(state_redis)
        try:
            return await StateWriter(client).apply(records)
        finally:
            await client.aclose()

    outcomes = run(apply())
    expected, expected_outcomes = Slot(), []
    for record in records:
        assert isinstance(record.event, ConsentChanged)
        expected, outcome = merge(expected, entry_of(record.event, record.offset))
        expected_outcomes.append(outcome)
    assert outcomes == expected_outcomes
    raw = redis.Redis.from_url(state_redis).hget(
        keys.party_key(party), keys.slot_field(SlotKey(party, Scope.PARTY, "", purpose))
    )
    assert raw is not None
    assert decode_slot(raw) == expected


def test_tracks_only_move_forward(state_redis: str) -> None:
    isrc, upc = new_isrc(), new_upc()
    newer = track_event(isrc, upc, ["artist:x", "label:y"])
    older = track_event(isrc, upc, ["artist:x"])
    topic = "consentry.catalogue.v1"

    async def apply() -> list[Outcome]:
        client = Redis.from_url(state_redis)
        try:
            writer = StateWriter(client)
            first = await writer.apply([Applied(topic, 3, 10, newer)])
            return first + await writer.apply(
                [Applied(topic, 3, 9, older), Applied(topic, 3, 10, newer)]
            )
        finally:
            await client.aclose()

    assert run(apply()) == [Outcome.APPLIED, Outcome.STALE, Outcome.DUPLICATE]
    client = redis.Redis.from_url(state_redis)
    assert client.hget(keys.track_key(isrc), "p") == b"artist:x label:y"
    assert int(client.hget(keys.WATERMARKS, f"{topic}:3") or -1) >= 10


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    choices=st.lists(
        st.tuples(
            st.sampled_from([0, 1]),  # party index
            st.sampled_from(list(Scope)),
            st.sampled_from(sorted(TAXONOMY.defaults)),
            st.sampled_from([Choice.ALLOW, Choice.DENY, Choice.WITHDRAWN]),
        ),
        max_size=12,
    ),
    purpose=st.sampled_from(sorted(TAXONOMY.defaults)),
)
def test_checks_through_redis_equal_the_replayed_domain(
    state_redis: str, choices: list[tuple[int, Scope, str, Choice]], purpose: str
) -> None:
    parties = [new_party("artist"), new_party("label")]
    isrc, upc = new_isrc(), new_upc()
    track = track_event(isrc, upc, parties)
    records = [Applied("consentry.catalogue.v1", 0, 1, track)]
    for offset, (who, scope, path, choice) in enumerate(choices, start=1):
        records.append(
            Applied(
                "consentry.consent-changes.v1",
                0,
                offset,
                decision_event(
                    parties[who], path, choice, scope, upc=upc, isrc=isrc, decision_id_seed=offset
                ),
            )
        )
    replay = ConsentState()
    for record in records:
        assert record.event is not None
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
                [Applied("consentry.catalogue.v1", 1, 7, track_event(isrc, upc, ["artist:q"]))]
            )
            view = (await StateReader(client).gather([isrc], "ai")).tracks[isrc]
            return None if view is None else view.track
        finally:
            await client.aclose()

    assert run(gather()) == Track(isrc, upc, ("artist:q",))


def test_a_dead_lettered_record_moves_only_the_watermark(state_redis: str) -> None:
    topic = f"test.{new_party()}"  # a log of this test's own: shared watermarks stay put
    field = keys.watermark_field(topic, 4)

    async def apply() -> list[Outcome]:
        client = Redis.from_url(state_redis)
        try:
            return await StateWriter(client).apply([Applied(topic, 4, 7, None)])
        finally:
            await client.aclose()

    assert run(apply()) == [Outcome.SKIPPED]
    assert redis.Redis.from_url(state_redis).hget(keys.WATERMARKS, field) == b"7"

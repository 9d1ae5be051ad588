"""The SDK on a Redis of its own: cache invalidation, bound, tokens, failing closed."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from consentry_domain import Answer, Basis, Verdict, load_taxonomy
from consentry_domain.purposes import parse_taxonomy
from consentry_events import CATALOGUE, CONSENT_CHANGES, Choice, Scope
from consentry_events.logged import LoggedEvent
from consentry_events.tokens import Token
from consentry_sdk import CheckSettings, ConsentChecker, connect
from consentry_stack.redis_server import RedisServer
from consentry_state import StateReader, StateWriter
from tests.support.events import decision_event, track_event
from tests.support.eventually import eventually_async
from tests.support.ids import new_isrc, new_party, new_upc
from tests.support.state import declare_whole, retire_behind_the_caches_back, vouch


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url)
    await declare_whole(client)
    yield client
    await client.aclose()


async def until(condition: Callable[[], bool], what: str, timeout_s: float = 5.0) -> None:
    await eventually_async(condition, timeout_s, what, poll_s=0.01)


def settings(server: RedisServer, **overrides: float) -> CheckSettings:
    return CheckSettings(redis_url=server.url, **overrides)  # type: ignore[arg-type]


async def seed(client: Redis, isrc: str, party: str, offset: int = 1) -> None:
    await StateWriter(client).apply(
        [LoggedEvent(CATALOGUE.name, 0, offset, track_event(isrc, new_upc(), [party]))]
    )


async def opt_out(client: Redis, party: str, offset: int, partition: int = 0) -> None:
    event = decision_event(party, "ai.training", Choice.DENY, Scope.PARTY)
    await StateWriter(client).apply([LoggedEvent(CONSENT_CHANGES.name, partition, offset, event)])


@contextlib.asynccontextmanager
async def seeded(
    server: RedisServer, client: Redis, **overrides: float
) -> AsyncIterator[tuple[str, str, ConsentChecker]]:
    """A new track of one party, applied, and a checker connected with ``overrides``:
    where most of these tests start."""
    isrc, party = new_isrc(), new_party()
    await seed(client, isrc, party)
    async with connect(settings(server, **overrides)) as checker:
        yield isrc, party, checker


async def test_an_invalidated_answer_is_never_served(
    redis_server: RedisServer, redis: Redis
) -> None:
    async with seeded(redis_server, redis, cache_bound_s=30) as (isrc, party, checker):
        assert checker.cache is not None
        await until(lambda: checker.cache is not None and checker.cache.live, "cache subscribed")
        assert (await checker.check(isrc, "ai.training")).allowed
        hits = checker.cache.hits
        assert (await checker.check(isrc, "ai.training")).allowed
        assert checker.cache.hits == hits + 1, "the second check is a cache hit"
        seen = checker.cache.invalidations
        await opt_out(redis, party, offset=1)
        await until(
            lambda: checker.cache is not None and checker.cache.invalidations > seen,
            "the invalidation heard",
        )
        answer = await checker.check(isrc, "ai.training")
        assert answer.verdict is Verdict.DENY
        assert answer.reasons[0].party == party


async def test_a_cached_answer_is_not_served_past_the_bound(
    redis_server: RedisServer, redis: Redis
) -> None:
    async with seeded(redis_server, redis, cache_bound_s=0.3) as (isrc, _, checker):
        await until(lambda: checker.cache is not None and checker.cache.live, "cache subscribed")
        assert (await checker.check(isrc, "ai.training")).allowed
        cached_by = time.monotonic()  # the entry was stored before this instant
        # Change Redis behind the cache's back: no invalidation is published.
        await retire_behind_the_caches_back(redis, isrc)
        served_from_cache = 0
        while True:
            asked = time.monotonic()
            if not (await checker.check(isrc, "ai.training")).allowed:
                break
            served_from_cache += 1
            assert asked < cached_by + 0.3, "an answer older than the bound was served"
            await asyncio.sleep(0.01)
        assert served_from_cache > 0, "the cache did serve within its bound"


async def test_a_token_not_yet_applied_never_yields_an_older_allow(
    redis_server: RedisServer, redis: Redis
) -> None:
    isrc, party = new_isrc(), new_party()
    await seed(redis, isrc, party)
    await opt_out(redis, new_party(), offset=10, partition=3)  # partition 3 is at offset 10
    async with connect(settings(redis_server, token_wait_s=0.3)) as checker:
        assert (await checker.check(isrc, "ai.training")).allowed  # now cached
        token = str(Token(CONSENT_CHANGES.name, 3, 11))
        pending = await checker.check(isrc, "ai.training", token=token)
        assert pending.verdict is Verdict.DENY
        assert [r.basis for r in pending.reasons] == [Basis.PENDING]
        await opt_out(redis, party, offset=11, partition=3)
        fresh = await checker.check(isrc, "ai.training", token=token)
        assert fresh.verdict is Verdict.DENY
        assert fresh.reasons[0].basis is Basis.DECISION
        with pytest.raises(ValueError, match=r"is not '<consent\|catalogue>:<partition>:<offset>'"):
            await checker.check(isrc, "ai.training", token="5:11")


async def test_redis_stopped_denies_unverifiable_and_recovers(
    redis_server: RedisServer, redis: Redis
) -> None:
    async with seeded(redis_server, redis, cache_bound_s=0.5) as (isrc, party, checker):
        assert (await checker.check(isrc, "ai.training")).allowed
        redis_server.stop()

        async def denied() -> Answer | None:
            answer = await checker.check(isrc, "ai.training")
            return None if answer.allowed else answer

        answer = await eventually_async(denied, 0.5 + 0.1, "the cached allow gone", 0.01)
        assert [r.basis for r in answer.reasons] == [Basis.UNVERIFIABLE]
        other = await checker.check(new_isrc(), "ai.training")
        assert [r.basis for r in other.reasons] == [Basis.UNVERIFIABLE]
        health = await checker.health()
        assert (health.redis_reachable, health.verifiable) == (False, False)

        redis_server.start()  # same port, empty: as if restarted without persistence
        client = Redis.from_url(redis_server.url)
        try:
            assert not (await checker.health()).heartbeat_fresh
            await declare_whole(client)
            await seed(client, isrc, party)

            async def allowed() -> bool:
                return (await checker.check(isrc, "ai.training")).allowed

            await eventually_async(allowed, 5, "answers recovered")
        finally:
            await client.aclose()


async def test_a_stale_heartbeat_is_unverifiable_and_told_apart(
    redis_server: RedisServer, redis: Redis
) -> None:
    isrc = new_isrc()
    await seed(redis, isrc, new_party())
    await vouch(redis, time.time_ns() // 1_000_000 - 10_000)
    async with connect(settings(redis_server, heartbeat_bound_s=5, cache_bound_s=0)) as checker:
        answer = await checker.check(isrc, "ai.training")
        assert [r.basis for r in answer.reasons] == [Basis.UNVERIFIABLE]
        health = await checker.health()
        assert health.redis_reachable
        assert not health.heartbeat_fresh
        assert health.heartbeat_age_s is not None
        assert health.heartbeat_age_s >= 10


async def test_fail_open_is_a_per_purpose_choice(redis_server: RedisServer, redis: Redis) -> None:
    taxonomy = parse_taxonomy(
        '[purposes]\n"ai" = "allow"\n"ai.dj" = "allow"\n"ai.training" = "allow"\n'
        '[when_unverifiable]\n"ai.dj" = "allow"\n'
    )
    checker = ConsentChecker(StateReader(redis), taxonomy)
    redis_server.stop()
    dj = await checker.check(new_isrc(), "ai.dj")
    training = await checker.check(new_isrc(), "ai.training")
    assert (dj.verdict, dj.reasons[0].basis) == (Verdict.ALLOW, Basis.UNVERIFIABLE)
    assert (training.verdict, training.reasons[0].basis) == (Verdict.DENY, Basis.UNVERIFIABLE)


async def test_a_token_at_offset_zero_is_applied_once_offset_zero_is(
    redis_server: RedisServer, redis: Redis
) -> None:
    isrc, party = new_isrc(), new_party()
    await seed(redis, isrc, party, offset=0)  # catalogue partition 0 now at offset 0
    checker = ConsentChecker(StateReader(redis), load_taxonomy(), token_wait_s=0.2)
    answer = await checker.check(isrc, "ai.training", token=str(Token(CATALOGUE.name, 0, 0)))
    assert answer.reasons[0].basis is Basis.DEFAULT


async def test_a_batch_of_100_tracks_is_one_round_trip(redis: Redis) -> None:
    """Counted by Redis itself: on this test's own server nothing else sends commands."""
    isrcs = [new_isrc() for _ in range(100)]
    records = [
        LoggedEvent(CATALOGUE.name, 0, i, track_event(isrc, new_upc(), [new_party(), "label:big"]))
        for i, isrc in enumerate(isrcs)
    ]
    await StateWriter(redis).apply(records)
    checker = ConsentChecker(StateReader(redis), load_taxonomy())
    await checker.check(new_isrc(), "ai")  # loads the script
    before = await redis.info("commandstats")
    answers = await checker.check_many(isrcs, "ai.training")
    after = await redis.info("commandstats")
    assert len(answers) == 100
    assert all(a.reasons[0].basis is Basis.DEFAULT for a in answers.values())

    def calls(stats: dict[str, Any], command: str) -> int:
        return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))

    # The one client command; the HMGETs it runs inside Redis are counted apart.
    assert calls(after, "evalsha_ro") - calls(before, "evalsha_ro") == 1
    assert calls(after, "evalsha") == calls(before, "evalsha")


async def test_concurrent_single_checks_share_one_round_trip(redis: Redis) -> None:
    """Counted by Redis itself, on this test's own server: fifty checks in flight at once
    cost one script call, and each gets the answer it would have got alone."""
    isrcs = [new_isrc() for _ in range(50)]
    denied = new_party()
    records = [
        LoggedEvent(CATALOGUE.name, 0, i, track_event(isrc, new_upc(), [new_party(), denied]))
        for i, isrc in enumerate(isrcs)
    ]
    await StateWriter(redis).apply(records)
    await opt_out(redis, denied, offset=1)
    checker = ConsentChecker(StateReader(redis), load_taxonomy())
    alone = {isrc: await checker.check(isrc, "ai.training") for isrc in isrcs[:5]}
    before = (await redis.info("commandstats"))["cmdstat_evalsha_ro"]["calls"]
    together = await asyncio.gather(*(checker.check(isrc, "ai.training") for isrc in isrcs))
    after = (await redis.info("commandstats"))["cmdstat_evalsha_ro"]["calls"]
    assert after - before == 1
    assert all(not answer.allowed for answer in together)
    assert dict(zip(isrcs[:5], together[:5], strict=True)) == alone

"""The sync checker on a Redis of its own: the async checker's answers, from threads and
from a forked worker, invalidated like it, failing closed like it."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading

import pytest
from redis.asyncio import Redis

from consentry_domain import Answer, Basis, Verdict
from consentry_events import CATALOGUE, CONSENT_CHANGES, AnyEvent, Choice, Scope
from consentry_events.logged import LoggedEvent
from consentry_sdk import CheckSettings, SyncConsentChecker, connect, connect_sync
from consentry_stack.redis_server import RedisServer
from consentry_state import StateWriter
from tests.support.events import decision_event, track_event
from tests.support.eventually import eventually
from tests.support.ids import new_isrc, new_party, new_upc
from tests.support.state import declare_whole, vouch

PURPOSE = "ai.training"


def _apply(url: str, events: list[LoggedEvent[AnyEvent]], *, whole: bool = False) -> None:
    async def apply() -> None:
        client = Redis.from_url(url)
        try:
            if whole:
                await declare_whole(client)
            await StateWriter(client).apply(events)
            await vouch(client)
        finally:
            await client.aclose()

    asyncio.run(apply())


def _settings(server: RedisServer) -> CheckSettings:
    return CheckSettings(redis_url=server.url, heartbeat_bound_s=600, cache_bound_s=30)


@pytest.fixture
def catalogue(redis_server: RedisServer) -> tuple[list[str], str]:
    """Ten tracks; the first five of a party that opted out of ai.training."""
    out, kept = new_party(), new_party()
    isrcs = [new_isrc() for _ in range(10)]
    events: list[LoggedEvent[AnyEvent]] = [
        LoggedEvent(
            CATALOGUE.name, 0, n + 1, track_event(isrc, new_upc(), [out if n < 5 else kept])
        )
        for n, isrc in enumerate(isrcs)
    ]
    events.append(
        LoggedEvent(
            CONSENT_CHANGES.name, 0, 1, decision_event(out, PURPOSE, Choice.DENY, Scope.PARTY)
        )
    )
    _apply(redis_server.url, events, whole=True)
    return isrcs, kept


def test_the_same_answers_as_the_async_checker(
    redis_server: RedisServer, catalogue: tuple[list[str], str]
) -> None:
    isrcs, _ = catalogue
    unknown = new_isrc()

    async def async_answers() -> dict[str, Answer]:
        async with connect(_settings(redis_server)) as checker:
            return dict(await checker.check_many([*isrcs, unknown], PURPOSE))

    expected = asyncio.run(async_answers())
    with connect_sync(_settings(redis_server)) as checker:
        assert checker.check_many([*isrcs, unknown], PURPOSE) == expected
        assert {isrc: checker.check(isrc, PURPOSE) for isrc in [*isrcs, unknown]} == expected
        assert [expected[i].verdict for i in isrcs] == [Verdict.DENY] * 5 + [Verdict.ALLOW] * 5
        assert checker.health().verifiable


def test_threads_share_one_checker_and_see_an_opt_out(
    redis_server: RedisServer, catalogue: tuple[list[str], str]
) -> None:
    isrcs, kept = catalogue
    allowed = isrcs[5:]
    with connect_sync(_settings(redis_server)) as checker:
        eventually(
            lambda: checker.checker.cache is not None and checker.checker.cache.live,
            5.0,
            "the cache subscribed",
        )
        seen: list[list[Verdict]] = []
        lock = threading.Lock()

        def checks() -> None:
            verdicts = [checker.check(isrc, PURPOSE).verdict for _ in range(50) for isrc in allowed]
            with lock:
                seen.append(verdicts)

        threads = [threading.Thread(target=checks) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(seen) == 8
        assert all(verdict is Verdict.ALLOW for run in seen for verdict in run)
        cache = checker.checker.cache
        assert cache is not None
        assert cache.hits > 0, "answers served from the cache"
        # The kept party opts out: the cached allows are invalidated, in every thread.
        _apply(
            redis_server.url,
            [
                LoggedEvent(
                    CONSENT_CHANGES.name,
                    0,
                    2,
                    decision_event(kept, PURPOSE, Choice.DENY, Scope.PARTY),
                )
            ],
        )
        eventually(
            lambda: all(checker.check(i, PURPOSE).verdict is Verdict.DENY for i in allowed),
            5.0,
            "the opt-out seen",
        )
        answers: list[Verdict] = []
        threads = [
            threading.Thread(
                target=lambda: answers.extend(checker.check(i, PURPOSE).verdict for i in allowed)
            )
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answers == [Verdict.DENY] * 20


def _child_check(
    checker: SyncConsentChecker, isrc: str, parents: int, out: multiprocessing.Queue[str]
) -> None:
    answer = checker.check(isrc, PURPOSE)
    own = "own" if id(checker.checker) != parents else "parent's"
    out.put(f"{answer.verdict}:{own}")
    checker.close()


def test_a_forked_worker_checks_on_connections_of_its_own(
    redis_server: RedisServer, catalogue: tuple[list[str], str]
) -> None:
    isrcs, _ = catalogue
    fork = multiprocessing.get_context("fork")
    with connect_sync(_settings(redis_server)) as checker:
        assert checker.check(isrcs[0], PURPOSE).verdict is Verdict.DENY
        eventually(
            lambda: checker.checker.cache is not None and checker.checker.cache.live,
            5.0,
            "the cache subscribed",
        )
        checker.check_many(isrcs, PURPOSE)  # the parent's cache holds all ten
        parents = id(checker.checker)
        out: multiprocessing.Queue[str] = fork.Queue()
        workers = [
            fork.Process(target=_child_check, args=(checker, i, parents, out))
            for i in isrcs[:2] + isrcs[5:7]
        ]
        for worker in workers:
            worker.start()
        results = sorted(out.get(timeout=30) for _ in workers)
        for worker in workers:
            worker.join(30)
            assert worker.exitcode == 0
        # Each child answered through an async checker, pool and cache of its own, not
        # the parent's (whose cache holds all ten answers).
        assert results == ["allow:own", "allow:own", "deny:own", "deny:own"]
        assert checker.check(isrcs[5], PURPOSE).verdict is Verdict.ALLOW, "the parent goes on"


def test_it_fails_closed_when_redis_is_gone(
    redis_server: RedisServer, catalogue: tuple[list[str], str]
) -> None:
    isrcs, _ = catalogue
    settings = CheckSettings(redis_url=redis_server.url, heartbeat_bound_s=600, cache_bound_s=0)
    with connect_sync(settings) as checker:
        assert checker.check(isrcs[5], PURPOSE).verdict is Verdict.ALLOW
        redis_server.stop()
        answer = checker.check(isrcs[5], PURPOSE)
        assert answer.verdict is Verdict.DENY
        assert answer.reasons[0].basis is Basis.UNVERIFIABLE
        assert not checker.health().redis_reachable
    with pytest.raises(RuntimeError, match="closed"):
        checker.check(isrcs[5], PURPOSE)


def test_a_loop_that_died_is_replaced(
    redis_server: RedisServer, catalogue: tuple[list[str], str]
) -> None:
    isrcs, _ = catalogue
    with connect_sync(_settings(redis_server)) as checker:
        first = checker.checker
        checker._loops[0].stop()  # as if its thread had died
        assert checker.check(isrcs[5], PURPOSE).verdict is Verdict.ALLOW
        assert checker.checker is not first, "a new loop, a new async checker"


def test_a_check_in_flight_at_close_answers_unverifiable(
    redis_server: RedisServer, catalogue: tuple[list[str], str]
) -> None:
    isrcs, _ = catalogue
    settings = CheckSettings(redis_url=redis_server.url, heartbeat_bound_s=600, token_wait_s=30)
    checker = connect_sync(settings).start()
    loop = checker._loops[0].loop
    idle = asyncio.run_coroutine_threadsafe(_tasks(), loop).result(5)
    answers: list[Answer] = []
    # A token the state will never reach: the check waits for it (up to 30 s).
    waiting = threading.Thread(
        target=lambda: answers.append(checker.check(isrcs[5], PURPOSE, token="consent:0:999999"))
    )
    waiting.start()
    eventually(
        lambda: asyncio.run_coroutine_threadsafe(_tasks(), loop).result(5) > idle,
        5.0,
        "the check in flight",
    )
    checker.close()
    waiting.join(10)
    assert not waiting.is_alive(), "close does not leave it waiting"
    assert [a.reasons[0].basis for a in answers] == [Basis.UNVERIFIABLE]
    assert answers[0].verdict is Verdict.DENY


async def _tasks() -> int:
    return len(asyncio.all_tasks())

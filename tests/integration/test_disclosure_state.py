"""AI disclosure through the Redis scripts equals the replayed domain: a track's delivered
disclosure and its rights holders' statements (stated, corrected, withdrawn; delivered
out of order and twice), read by a check, are what ``ConsentState`` says -- the most
AI-inclusive of the delivery and the current holders' statements -- and the outcome of
every record is the domain's."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from consentry_domain import Basis, ConsentState, load_taxonomy
from consentry_domain.purposes import parse_taxonomy
from consentry_events import CATALOGUE, CONSENT_CHANGES, AnyEvent, DisclosureStated, TrackChanged
from consentry_events.logged import LoggedEvent
from consentry_sdk import ConsentChecker
from consentry_stack.stack import Stack
from consentry_state import StateReader, StateWriter, StoredState
from tests.support.ids import new_isrc, new_party, new_upc

TAXONOMY = load_taxonomy()
LEVELS = st.sampled_from(["all", "partly", "none", None])
ON_REDIS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def statement(party: str, isrcs: list[str], level: str | None, seed: int) -> DisclosureStated:
    return DisclosureStated(
        statement_id=uuid.UUID(int=seed),
        party=party,
        works=tuple(isrcs),
        contains_ai=level,
        recorded_at=datetime.now(UTC),
        actor=party,
    )


@ON_REDIS
@given(
    delivered=LEVELS,
    statements=st.lists(st.tuples(st.integers(0, 2), LEVELS, st.booleans()), max_size=8),
    order=st.randoms(use_true_random=False),
    repeats=st.lists(st.integers(0, 8), max_size=3),
)
def test_disclosure_through_redis_equals_the_replay(
    stack: Stack,
    delivered: str | None,
    statements: list[tuple[int, str | None, bool]],
    order: object,
    repeats: list[int],
) -> None:
    holders = [new_party("artist"), new_party("label")]
    stranger = new_party("publisher")  # states, but holds no rights in the track
    who = [*holders, stranger]
    isrc, other, upc = new_isrc(), new_isrc(), new_upc()
    track = TrackChanged(
        isrc=isrc,
        upc=upc,
        parties=tuple(holders),
        contains_ai=delivered,
        recorded_at=datetime.now(UTC),
    )
    records: list[LoggedEvent[AnyEvent]] = [LoggedEvent(CATALOGUE.name, 0, 1, track)]
    for offset, (n, level, both) in enumerate(statements, start=1):
        works = [isrc, other] if both else [isrc]
        event = statement(who[n], works, level, offset)
        records.append(LoggedEvent(CONSENT_CHANGES.name, 0, offset, event))
    records += [records[i] for i in repeats if i < len(records)]
    assert hasattr(order, "shuffle")
    order.shuffle(records)
    replay = ConsentState()
    expected = [replay.apply(r.event, r.offset) for r in records]

    async def through_redis() -> None:
        client = Redis.from_url(stack.redis.url)
        try:
            assert await StateWriter(client).apply(records) == expected
            answer = await ConsentChecker(StateReader(client), TAXONOMY).check(isrc, "ai")
            assert answer == replay.check(isrc, "ai", TAXONOMY, 0)
            stated = (await StoredState(client).disclosure(isrc))[1]
            standing = {
                party: s.level
                for (i, party), s in replay.statements.items()
                if i == isrc and s.level is not None
            }
            assert stated == standing
        finally:
            await client.aclose()

    asyncio.run(through_redis())


def test_a_purpose_may_exclude_disclosed_ai_and_the_check_says_why(stack: Stack) -> None:
    taxonomy = parse_taxonomy(
        '[purposes]\n"ai" = "allow"\n"ai.dj" = "allow"\n[exclude_ai]\n"ai.dj" = ["all"]\n'
    )
    artist, isrc = new_party(), new_isrc()
    now = datetime.now(UTC)
    track = TrackChanged(
        isrc=isrc, upc=new_upc(), parties=(artist,), contains_ai="partly", recorded_at=now
    )
    all_ai = statement(artist, [isrc], "all", 1)

    async def checks() -> list[tuple[str, str | None, Basis]]:
        client = Redis.from_url(stack.redis.url)
        try:
            checker = ConsentChecker(StateReader(client), taxonomy)
            found: list[tuple[str, str | None, Basis]] = []
            await StateWriter(client).apply([LoggedEvent(CATALOGUE.name, 0, 1, track)])
            for purpose in ("ai", "ai.dj"):
                answer = await checker.check(isrc, purpose)
                found.append((answer.verdict.value, answer.disclosure, answer.reasons[-1].basis))
            await StateWriter(client).apply([LoggedEvent(CONSENT_CHANGES.name, 0, 2, all_ai)])
            checker = ConsentChecker(StateReader(client), taxonomy)
            for purpose in ("ai", "ai.dj"):
                answer = await checker.check(isrc, purpose)
                found.append((answer.verdict.value, answer.disclosure, answer.reasons[-1].basis))
            return found
        finally:
            await client.aclose()

    assert asyncio.run(checks()) == [
        ("allow", "partly", Basis.DEFAULT),
        ("allow", "partly", Basis.DEFAULT),
        ("allow", "all", Basis.DEFAULT),
        ("deny", "all", Basis.AI_DISCLOSURE),
    ]

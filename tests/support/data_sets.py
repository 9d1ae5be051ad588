"""Data sets in tests: the SDK's ``DataSets`` on a stack's check side, and a label's
catalogue with decisions at every scope to filter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import Redis

from consentry_domain import load_taxonomy
from consentry_sdk import ChangeFeed, FeedSettings
from consentry_sdk.datasets import DataSets
from consentry_stack.stack import Stack
from consentry_state import StateReader
from tests.support.http import await_answer, decide, register
from tests.support.ids import new_isrc, new_party, new_upc


@asynccontextmanager
async def data_sets(stack: Stack, batch: int = 1000) -> AsyncIterator[DataSets]:
    redis = Redis.from_url(stack.check_redis_url)
    try:
        feed = ChangeFeed(FeedSettings(kafka_bootstrap=stack.kafka.bootstrap))
        yield DataSets(StateReader(redis), load_taxonomy(None), feed=feed, batch=batch)
    finally:
        await redis.aclose()


@dataclass(frozen=True)
class Label:
    party: str
    release_a: str
    on_a: list[str]
    on_b: list[str]


def catalogue_with_decisions(stack: Stack) -> Label:
    """A label's 24 tracks on two releases, with decisions at every scope: release A
    denied, one of its tracks allowed by the label (track beats release), and on
    release B one track denied by its artist."""
    label, (a, b) = new_party("label"), (new_upc(), new_upc())
    on_a = [new_isrc() for _ in range(12)]
    on_b = [new_isrc() for _ in range(12)]
    artist = new_party()
    for isrc in on_a:
        register(stack, isrc, a, [new_party(), label])
    for isrc in on_b:
        register(stack, isrc, b, [artist, label])
    decide(stack, label, "ai.training", "deny", "release", upc=a)
    decide(stack, label, "ai.training", "allow", "track", isrc=on_a[0])
    decide(stack, artist, "ai", "deny", "track", isrc=on_b[0])
    await_answer(stack, on_a[1], "ai.training", "deny")
    await_answer(stack, on_a[0], "ai.training", "allow")
    await_answer(stack, on_b[0], "ai.training", "deny")
    return Label(label, a, on_a, on_b)

"""Issue 15: the change feed for downstream AI systems, on the real stack.

A follower stopped midway and resumed from the cursor it stored sees every change once
and in order; a follower of another purpose sees none of them; an idle follower gets
checkpoints that say it is caught up -- and never before the changes of what was accepted
before them; a cursor older than what the feed keeps is an explicit error, never a
silent gap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import aclosing

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from consentry_events import ENFORCEMENT
from consentry_sdk import ChangeFeed, Checkpoint, Cursor, FeedChange, FeedSettings
from consentry_sdk.feed import BadCursor, CursorExpired
from consentry_stack.stack import Stack
from tests.support.http import await_answer, decide, register
from tests.support.ids import new_isrc, new_party, new_upc


def feed_of(stack: Stack) -> ChangeFeed:
    return ChangeFeed(FeedSettings(kafka_bootstrap=stack.kafka.bootstrap, checkpoint_every_s=0.2))


def label_with_tracks(stack: Stack, count: int) -> tuple[str, set[str]]:
    label, upc = new_party("label"), new_upc()
    isrcs = {new_isrc() for _ in range(count)}
    for isrc in isrcs:
        register(stack, isrc, upc, [new_party(), label])
    for isrc in isrcs:
        await_answer(stack, isrc, "ai.training", "allow")
    return label, isrcs


async def take(
    feed: ChangeFeed,
    purposes: list[str],
    cursor: Cursor | None,
    ours: set[str],
    stop: Callable[[list[FeedChange], Checkpoint | None], bool],
    started: asyncio.Event | None = None,
) -> list[FeedChange]:
    """Follow until ``stop`` says so (asked after each change and checkpoint of ours)."""
    seen: list[FeedChange] = []
    async with asyncio.timeout(60):
        async with aclosing(feed.follow(purposes, cursor)) as items:
            async for item in items:
                if isinstance(item, Checkpoint):
                    if started is not None:
                        started.set()
                    if stop(seen, item):
                        break
                elif item.event.isrc in ours:
                    seen.append(item)
                    if stop(seen, None):
                        break
    return seen


def test_a_follower_resumed_from_its_cursor_sees_every_change_once(stack: Stack) -> None:
    label, ours = label_with_tracks(stack, 20)
    feed = feed_of(stack)

    async def scenario() -> tuple[list[FeedChange], list[FeedChange], list[FeedChange]]:
        started, other_started = asyncio.Event(), asyncio.Event()
        first = asyncio.create_task(
            take(feed, ["ai.training"], None, ours, lambda seen, _: len(seen) == 7, started)
        )
        elsewhere = asyncio.create_task(
            take(
                feed,
                ["ai.generation"],
                None,
                ours,
                lambda seen, cp: cp is not None and after_all.is_set() and cp.caught_up,
                other_started,
            )
        )
        after_all = asyncio.Event()
        await started.wait()
        await other_started.wait()
        await asyncio.to_thread(decide, stack, label, "ai.training", "deny", "party")
        before_stop = await first
        await asyncio.to_thread(decide, stack, label, "ai.training", "allow", "party")
        resumed = await take(
            feed,
            ["ai.training"],
            before_stop[-1].cursor,
            ours,
            lambda seen, cp: len(seen) >= 33 and cp is not None and cp.caught_up,
        )
        after_all.set()
        return before_stop, resumed, await elsewhere

    before_stop, resumed, elsewhere = asyncio.run(scenario())
    assert len(before_stop) == 7
    assert len(resumed) == 33, "after the stored cursor: every change once, nothing more"
    answers: dict[str, list[str]] = {}
    for change in [*before_stop, *resumed]:
        assert change.event.purpose == "ai.training"
        answers.setdefault(change.event.isrc, []).append(change.event.answer)
    assert answers == {isrc: ["deny", "allow"] for isrc in ours}
    assert elsewhere == [], "a follower of ai.generation was told of ai.training"


def test_a_cursor_older_than_the_feed_keeps_is_refused(stack: Stack) -> None:
    feed = feed_of(stack)
    label, ours = label_with_tracks(stack, 3)

    async def old_cursor() -> Cursor:
        """A cursor taken before the label's opt-out; then the feed forgets everything up
        to the last of its changes (as retention would, days later)."""
        async with aclosing(feed.follow(["ai.training"])) as items:
            async for item in items:
                if isinstance(item, Checkpoint):
                    cursor = item.cursor
                    break
        await asyncio.to_thread(decide, stack, label, "ai.training", "deny", "party")
        told = await take(
            feed, ["ai.training"], cursor, ours, lambda seen, _: len(seen) == len(ours)
        )
        after = told[-1].cursor.offsets
        admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka.bootstrap)
        await admin.start()
        try:
            await admin.delete_records(
                {
                    TopicPartition(ENFORCEMENT.name, p): RecordsToDelete(after[p])
                    for p, then in enumerate(cursor.offsets)
                    if after[p] > then
                }
            )
        finally:
            await admin.close()
        return cursor

    cursor = asyncio.run(old_cursor())
    with pytest.raises(CursorExpired, match="resync from a snapshot"):
        next(iter(feed.follow_sync(["ai.training"], cursor.encode())))
    with pytest.raises(BadCursor):
        next(iter(feed.follow_sync(["ai.training"], "c1:not-a-cursor")))


def test_caught_up_is_never_said_before_the_changes_of_what_was_accepted(stack: Stack) -> None:
    """A checkpoint every millisecond comes long before the first fetch returns (the
    feed's high watermark is unknown then), and before the enforcer has published the
    changes of a decision accepted a moment earlier: neither may read as caught up. The
    first caught-up checkpoint comes after every change of the decisions accepted
    before following began -- those on the feed already, and those not yet on it."""
    label, ours = label_with_tracks(stack, 6)
    decide(stack, label, "ai.training", "deny", "party")
    feed = ChangeFeed(FeedSettings(kafka_bootstrap=stack.kafka.bootstrap, checkpoint_every_s=0.001))

    async def first_caught_up(cursor: Cursor | None) -> tuple[list[FeedChange], Checkpoint]:
        seen: list[FeedChange] = []
        async with (
            asyncio.timeout(60),
            aclosing(feed.follow(["ai"], cursor, start="earliest")) as items,
        ):
            async for item in items:
                if isinstance(item, FeedChange):
                    seen.append(item)
                elif item.caught_up:
                    return seen, item
        raise AssertionError("the feed ended")

    async def scenario() -> tuple[list[FeedChange], list[FeedChange], Checkpoint]:
        oldest, _ = await first_caught_up(None)  # the whole feed, read from its start
        before = await feed.end()
        await asyncio.to_thread(decide, stack, label, "ai.training", "allow", "party")
        after, checkpoint = await first_caught_up(before)  # not yet enforced, perhaps
        return oldest, after, checkpoint

    oldest, after, checkpoint = asyncio.run(scenario())
    denied = {c.event.isrc for c in oldest if c.event.isrc in ours and c.event.answer == "deny"}
    assert denied == ours, "caught up before the changes already on the feed were given"
    allowed = {c.event.isrc for c in after if c.event.isrc in ours and c.event.answer == "allow"}
    assert allowed == ours, "caught up before the changes of a decision accepted earlier"
    assert checkpoint.behind == 0
    assert checkpoint.complete_to is not None  # (newer records, e.g. the canary's, may not be)

"""The change feed for downstream AI systems: every enforcement change, in order per
(track, purpose), resumable from a cursor the follower stores.

    feed = ChangeFeed(FeedSettings())
    async for item in feed.follow(purposes=["ai.training"], cursor=saved):
        if isinstance(item, FeedChange):
            act_on(item.event)            # drop the track from the data set, ...
        save(item.cursor)                 # after acting: a restart resumes after it

A cursor is the next offset to read on each partition of ``ENFORCEMENT`` (the feed is
kept ``FEED_RETENTION_MS``). Resuming from a stored cursor yields exactly the changes
after it -- none skipped, none repeated. A cursor older than the retention (its records
deleted) raises ``CursorExpired``: the follower must resync from a snapshot, never carry
on with a gap. Checkpoints come every ``checkpoint_every_s`` even while nothing changes,
with the cursor and how far behind the feed's end the follower is, so an idle follower
can be told from a lagging one (and the cursor saved while idle).

Each follower reads with a consumer of its own (no group, no commits): the cursor is
the follower's to keep, and followers never disturb each other.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import OffsetOutOfRangeError
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from consentry_domain.purposes import covers
from consentry_events import ENFORCEMENT, FEED_RETENTION_MS, EnforcementChanged
from consentry_kafka import KafkaClientSettings, all_partitions

_VERSION = "c1"


class FeedSettings(KafkaClientSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENTRY_FEED_", extra="forbid")

    checkpoint_every_s: float = Field(
        default=5.0, gt=0, description="How often a checkpoint is yielded, changes or not."
    )
    fetch_max: int = Field(default=1000, ge=1, description="Most records taken in one fetch.")


class FeedError(Exception):
    """Base of the feed's errors."""


class BadCursor(FeedError):
    """The text is not a cursor of this feed."""


class CursorExpired(FeedError):
    """The cursor points before what the feed still keeps: changes after it are gone.
    Resync from a snapshot and follow from its token."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Per partition of the feed, the next offset to read."""

    offsets: tuple[int, ...]

    def encode(self) -> str:
        return f"{_VERSION}:" + ".".join(map(str, self.offsets))

    @classmethod
    def decode(cls, text: str) -> Cursor:
        version, _, rest = text.partition(":")
        try:
            offsets = tuple(int(part) for part in rest.split("."))
        except ValueError:
            offsets = ()
        if version != _VERSION or not offsets or min(offsets) < 0:
            raise BadCursor(f"not a change feed cursor: {text!r}")
        return cls(offsets)

    def __str__(self) -> str:
        return self.encode()


@dataclass(frozen=True, slots=True)
class FeedChange:
    event: EnforcementChanged
    cursor: Cursor
    """Resume here to get the changes after this one."""
    change: str
    """Its place on the feed, ``<partition>:<offset>``: what a receipt names."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    cursor: Cursor
    behind: int
    """Changes (of any purpose) between the cursor and the feed's end as last seen."""
    at: datetime

    @property
    def caught_up(self) -> bool:
        return self.behind == 0


FeedItem = FeedChange | Checkpoint
Start = Literal["end", "earliest"]


class ChangeFeed:
    def __init__(self, settings: FeedSettings | None = None) -> None:
        self._settings = settings or FeedSettings()
        self.retention_ms = FEED_RETENTION_MS

    async def follow(
        self,
        purposes: Collection[str] | None = None,
        cursor: Cursor | str | None = None,
        *,
        start: Start = "end",
    ) -> AsyncGenerator[FeedItem, None]:
        """Changes for ``purposes`` (and the purposes under them; None: all) after
        ``cursor`` -- without one, from the feed's end now (``start="end"``) or from the
        oldest change kept -- with a checkpoint every ``checkpoint_every_s``.

        Raises ``CursorExpired`` when changes after the cursor are no longer kept, at the
        start or later (a follower slower than the retention)."""
        at = Cursor.decode(cursor) if isinstance(cursor, str) else cursor
        kafka = self._settings.kafka()
        partitions = await all_partitions(kafka, [ENFORCEMENT.name])
        consumer = AIOKafkaConsumer(
            **kafka.client_args(),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="none",
            max_poll_records=self._settings.fetch_max,
            client_id="consentry-feed",
        )
        await consumer.start()
        try:
            consumer.assign(partitions)
            position = await self._seek(consumer, partitions, at, start)
            every = self._settings.checkpoint_every_s
            next_checkpoint = time.monotonic() + every
            while True:
                timeout_ms = max(1, int((next_checkpoint - time.monotonic()) * 1000))
                try:
                    fetched = await consumer.getmany(timeout_ms=timeout_ms)
                except OffsetOutOfRangeError as exc:
                    raise CursorExpired(
                        f"the feed no longer keeps the changes after {Cursor(tuple(position))} "
                        f"(kept {self.retention_ms // 3_600_000} h): resync from a snapshot"
                    ) from exc
                for tp in sorted(fetched, key=lambda tp: tp.partition):
                    for record in fetched[tp]:
                        position[tp.partition] = record.offset + 1
                        event = EnforcementChanged.model_validate_json(record.value)
                        if purposes is None or any(covers(p, event.purpose) for p in purposes):
                            place = f"{tp.partition}:{record.offset}"
                            yield FeedChange(event, Cursor(tuple(position)), place)
                if time.monotonic() >= next_checkpoint:
                    behind = sum(
                        max(0, (consumer.highwater(tp) or 0) - position[tp.partition])
                        for tp in partitions
                    )
                    yield Checkpoint(Cursor(tuple(position)), behind, datetime.now(UTC))
                    next_checkpoint = time.monotonic() + every
        finally:
            await consumer.stop()

    async def end(self) -> Cursor:
        """A cursor at the feed's end now: following from it yields every change
        published after this call (a snapshot's or a filter's token)."""
        kafka = self._settings.kafka()
        partitions = await all_partitions(kafka, [ENFORCEMENT.name])
        consumer = AIOKafkaConsumer(
            **kafka.client_args(), group_id=None, client_id="consentry-feed"
        )
        await consumer.start()
        try:
            ends = await consumer.end_offsets(partitions)
        finally:
            await consumer.stop()
        return Cursor(tuple(ends[tp] for tp in partitions))

    def follow_sync(
        self,
        purposes: Collection[str] | None = None,
        cursor: Cursor | str | None = None,
        *,
        start: Start = "end",
    ) -> Iterator[FeedItem]:
        """``follow`` for code without an event loop (it runs one of its own)."""
        loop = asyncio.new_event_loop()
        items = self.follow(purposes, cursor, start=start)
        try:
            while True:
                try:
                    yield loop.run_until_complete(items.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            loop.run_until_complete(items.aclose())
            loop.close()

    @staticmethod
    async def _seek(
        consumer: AIOKafkaConsumer,
        partitions: list[TopicPartition],
        cursor: Cursor | None,
        start: Start,
    ) -> list[int]:
        begins = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        position = []
        for tp in partitions:
            if cursor is None:
                offset = ends[tp] if start == "end" else begins[tp]
            elif tp.partition < len(cursor.offsets):
                offset = cursor.offsets[tp.partition]
                if offset < begins[tp]:
                    raise CursorExpired(
                        f"partition {tp.partition}: the cursor is at {offset}, the feed keeps "
                        f"{begins[tp]} onwards: resync from a snapshot"
                    )
                if offset > ends[tp]:
                    raise BadCursor(f"partition {tp.partition}: {offset} is past the feed's end")
            else:
                offset = begins[tp]  # a partition added after the cursor was taken
            consumer.seek(tp, offset)
            position.append(offset)
        return position

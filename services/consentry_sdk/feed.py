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
with the cursor and how far behind the follower is, so an idle follower can be told from
a lagging one (and the cursor saved while idle).

**What "caught up" promises.** A checkpoint that is ``caught_up`` has given the follower
every change the enforcer will publish for the decisions and catalogue records accepted
before its ``complete_to`` (a window that opens or closes later is a change of its own,
published when it passes). It is measured, never assumed: at each checkpoint the consent
and catalogue logs' ends are asked (that moment is a candidate ``complete_to``), then the
enforcer's committed positions (it commits a record only once its changes are
acknowledged on the feed), then the feed's end. ``complete_to`` is the newest candidate
whose log ends the enforcer has committed past -- a second or two old under steady
writes, as the enforcer commits every second -- and the checkpoint is caught up when the
follower has also read to the feed's end. To know a decision accepted at T has reached
you, wait for a caught-up checkpoint with ``complete_to`` after T. Anything unknown -- a
broker that did not answer in time, a partition not fetched yet -- is reported as
unknown, never as caught up.

Each follower reads with a consumer of its own (no group, no commits): the cursor is
the follower's to keep, and followers never disturb each other.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import OffsetOutOfRangeError
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from consentry_domain.purposes import covers
from consentry_events import (
    CATALOGUE,
    CONSENT_CHANGES,
    ENFORCEMENT,
    FEED_RETENTION_MS,
    EnforcementChanged,
)
from consentry_kafka import KafkaClientSettings, all_partitions
from consentry_sdk.feed_standing import Standing

_VERSION = "c1"


class FeedSettings(KafkaClientSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENTRY_FEED_", extra="forbid")

    checkpoint_every_s: float = Field(
        default=5.0, gt=0, description="How often a checkpoint is yielded, changes or not."
    )
    fetch_max: int = Field(default=1000, ge=1, description="Most records taken in one fetch.")
    enforcer_group: str = Field(
        default="consentry-enforcer",
        description="The enforcer's consumer group, whose committed positions tell whether "
        "it has published the changes of every decision accepted before a checkpoint.",
    )
    progress_timeout_s: float = Field(
        default=5.0, gt=0, description="How long a checkpoint waits for the broker's answers."
    )


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

    @classmethod
    def earliest(cls, cursors: Iterable[Cursor]) -> Cursor:
        """Per partition, the earliest of ``cursors``: following from it yields every
        change after any of them (a partition one of them does not name, from its start)."""
        found = list(cursors)
        width = max(len(c.offsets) for c in found)
        return cls(
            tuple(
                min(c.offsets[p] if p < len(c.offsets) else 0 for c in found) for p in range(width)
            )
        )


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
    behind: int | None
    """Changes (of any purpose) between the cursor and the feed's end, asked at the
    checkpoint; None: the broker did not say."""
    unenforced: int | None
    """Records accepted by the checkpoint whose changes the enforcer has not published
    yet; None: not known."""
    complete_to: datetime | None
    """Every change for what was accepted before this moment is on the feed (see the
    module's "caught up"); None: not known yet."""
    at: datetime
    """When the checkpoint was taken."""

    @property
    def caught_up(self) -> bool:
        """Every change for what was accepted before ``complete_to`` has been given."""
        return self.behind == 0 and self.complete_to is not None


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
        sources = await all_partitions(kafka, [CONSENT_CHANGES.name, CATALOGUE.name])
        admin = AIOKafkaAdminClient(**kafka.client_args(), client_id="consentry-feed")
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
            await admin.start()
            consumer.assign(partitions)
            position = await self._seek(consumer, partitions, at, start)
            standing = Standing(
                consumer,
                admin,
                partitions,
                sources,
                self._settings.enforcer_group,
                self._settings.progress_timeout_s,
            )
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
                    progress = await standing.measure(position)
                    yield Checkpoint(Cursor(tuple(position)), *progress)
                    next_checkpoint = time.monotonic() + every
        finally:
            await consumer.stop()
            await admin.close()

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

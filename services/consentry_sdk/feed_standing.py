"""Where a change-feed follower stands, for its checkpoints (``consentry_sdk.feed``): how
far behind the feed's end it is, and up to when everything accepted is on the feed.

Measured in this order at each checkpoint: the consent and catalogue logs' ends (that
moment is a candidate for ``complete_to``), the enforcer's committed positions (which
candidates it has passed: it commits a record only once the record's changes are
acknowledged on the feed), the feed's end. Anything the broker does not answer in time
is unknown, and unknown is never caught up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

CANDIDATES_KEPT = 600
"""Candidates for ``complete_to`` kept while the enforcer has passed none (the newest)."""

Progress = tuple[int | None, int | None, datetime | None, datetime]
"""(behind, unenforced, complete_to, at): a ``Checkpoint``'s fields after its cursor."""


def passed(
    candidates: Sequence[tuple[datetime, dict[TopicPartition, int]]],
    committed: dict[TopicPartition, int],
) -> int | None:
    """The newest candidate whose log ends every committed position has reached."""
    reached = [
        n
        for n, (_, ends) in enumerate(candidates)
        if all(committed.get(tp, 0) >= end for tp, end in ends.items())
    ]
    return reached[-1] if reached else None


class Standing:
    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        admin: AIOKafkaAdminClient,
        feed: list[TopicPartition],
        sources: list[TopicPartition],
        enforcer_group: str,
        timeout_s: float,
    ) -> None:
        self._consumer = consumer
        self._admin = admin
        self._feed = feed
        self._sources = sources
        self._group = enforcer_group
        self._timeout_s = timeout_s
        self._candidates: list[tuple[datetime, dict[TopicPartition, int]]] = []
        """Oldest first; the first one is the last ``complete_to`` reported."""

    async def measure(self, position: Sequence[int]) -> Progress:
        """Where a follower at ``position`` (the next offset per feed partition) stands."""
        at = datetime.now(UTC)
        try:
            async with asyncio.timeout(self._timeout_s):
                accepted = await self._consumer.end_offsets(self._sources)
                self._candidates.append((at, accepted))
                del self._candidates[:-CANDIDATES_KEPT]
                offsets = await self._admin.list_consumer_group_offsets(self._group)
                ends = await self._consumer.end_offsets(self._feed)
        except (KafkaError, TimeoutError):
            return None, None, None, at
        committed = {tp: meta.offset for tp, meta in offsets.items()}
        unenforced = sum(max(0, end - committed.get(tp, 0)) for tp, end in accepted.items())
        newest = passed(self._candidates, committed)
        complete_to = None
        if newest is not None:
            complete_to = self._candidates[newest][0]
            del self._candidates[:newest]
        behind = sum(max(0, ends[tp] - position[tp.partition]) for tp in self._feed)
        return behind, unenforced, complete_to, at

"""Rebuilding the enforcer's store from Kafka: on a worker's first start, or after the
store was lost.

The store only caches what the logs hold: what downstream was told (the compacted
``ENFORCEMENT_STATE`` topic, written before the store), the catalogue and the decisions.
A worker that finds the store without its whole-mark claims the recovery (the others
wait) and:

1. reads what downstream was told, to the end of the compacted topic, into the store;
2. indexes the catalogue topic: the releases each party holds, the tracks on each;
3. schedules the decision windows still to open or close, from the consent log;
4. sweeps every indexed release: each track and purpose is resolved from the whole check
   state (waiting while that is rebuilt too) and compared with what downstream was told,
   and every difference is published -- a change made while both were being rebuilt
   included, as a change back to a purpose's default that the lost store alone would
   have hidden;
5. marks the store whole, unless it was lost again meanwhile.

Records consumed meanwhile wait, unacknowledged, and are enforced after it. A crash
midway leaves the store unmarked: the next worker starts again (at least once: a repeat
carries the same answer).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from redis.asyncio import Redis

from consentry_domain import Verdict
from consentry_domain.state import slot_keys_of
from consentry_enforcer import metrics
from consentry_enforcer.enforce import Enforcer, NotYetApplied, Told
from consentry_events import (
    CATALOGUE,
    CONSENT_CHANGES,
    ENFORCEMENT_STATE,
    ConsentChanged,
    ConsentChangedMany,
    DecodeError,
    TrackChanged,
)
from consentry_kafka import KafkaConnection, LogRecord, all_partitions, read_to_end
from consentry_state import CatalogueIndex, DecisionWindows, PublishedAnswers, StoreMarks

log = logging.getLogger(__name__)

Apply = Callable[[Sequence[LogRecord]], Awaitable[None]]


class StoreRecovering(NotYetApplied):
    """Another worker is rebuilding the enforcer's store; enforce later."""


def told_of(records: Sequence[LogRecord]) -> Told:
    """What the compacted record says downstream was told, the later record of a pair
    winning: ``<isrc>|<purpose>`` -> ``allow``/``deny``, or a tombstone (the default)."""
    told: Told = {}
    for record in records:
        if record.key is None:
            continue
        isrc, purpose = record.key.decode().split("|", 1)
        verdict = None if record.value is None else Verdict(record.value.decode())
        told.setdefault(purpose, {})[isrc] = verdict
    return told


def encode_told(told: Told) -> list[tuple[bytes, bytes | None]]:
    """The compacted record's (key, value) pairs for ``told``."""
    return [
        (f"{isrc}|{purpose}".encode(), None if verdict is None else verdict.value.encode())
        for purpose, of_purpose in told.items()
        for isrc, verdict in of_purpose.items()
    ]


class StoreRecovery:
    def __init__(
        self,
        kafka: KafkaConnection,
        store: Redis,
        enforcer: Enforcer,
        *,
        claim_ttl_s: int = 60,
        retry_s: float = 0.5,
    ) -> None:
        self._kafka = kafka
        self._marks = StoreMarks(store)
        self._index = CatalogueIndex(store)
        self._published = PublishedAnswers(store)
        self._windows = DecisionWindows(store)
        self._enforcer = enforcer
        self._owner = uuid.uuid4().hex
        self._claim_ttl_s = claim_ttl_s
        self._retry_s = retry_s
        self._lock = asyncio.Lock()

    async def ensure(self) -> None:
        """Return once the store is whole, having rebuilt it if it was not.

        Raises ``StoreRecovering`` while another worker rebuilds it."""
        if await self._marks.is_whole():
            return
        async with self._lock:
            while not await self._marks.is_whole():
                await self._claim()
                metrics.RECOVERING.set(1)
                try:
                    started = time.monotonic()
                    swept = await self._recover()
                finally:
                    metrics.RECOVERING.set(0)
                if await self._marks.mark_whole(self._owner):
                    metrics.RECOVERIES.inc()
                    log.warning(
                        "enforcer store rebuilt from Kafka in %.1fs; the sweep published %d "
                        "changes",
                        time.monotonic() - started,
                        swept,
                    )

    async def _claim(self) -> None:
        if not await self._marks.claim(self._owner, self._claim_ttl_s):
            raise StoreRecovering("another worker is rebuilding the enforcer's store")

    async def _recover(self) -> int:
        await self._replay(ENFORCEMENT_STATE.name, self._remember)
        await self._replay(CATALOGUE.name, self._index_tracks)
        await self._replay(CONSENT_CHANGES.name, self._schedule_windows)
        swept = 0
        async for upcs in self._index.releases():
            while True:
                await self._claim()
                try:
                    swept += await self._enforcer.sweep(upcs)
                    break
                except NotYetApplied as exc:  # the check state is being rebuilt too
                    log.info("store recovery waits: %s", exc)
                    await asyncio.sleep(self._retry_s)
        return swept

    async def _replay(self, topic: str, apply: Apply) -> None:
        partitions = await all_partitions(self._kafka, [topic])
        async for records in read_to_end(self._kafka, partitions, client_id="consentry-enforcer"):
            await self._claim()
            await apply(records)

    async def _remember(self, records: Sequence[LogRecord]) -> None:
        await self._published.record(told_of(records))

    async def _index_tracks(self, records: Sequence[LogRecord]) -> None:
        tracks = []
        for record in records:
            if record.value is None:
                continue
            try:
                event = record.decoded(self._kafka.trust).event
            except DecodeError:
                continue  # dead-lettered by the materialiser
            if isinstance(event, TrackChanged):
                tracks.append(event)
        await self._index.add(tracks)

    async def _schedule_windows(self, records: Sequence[LogRecord]) -> None:
        now = datetime.now(UTC)
        for record in records:
            try:
                event = record.decoded(self._kafka.trust).event
            except DecodeError:
                continue
            if not isinstance(event, ConsentChanged | ConsentChangedMany):
                continue
            later = [m for m in (event.effective_from, event.expires_at) if m and m > now]
            if later:
                await self._windows.schedule(
                    slot_keys_of(event), [int(m.timestamp() * 1000) for m in later]
                )

"""Appending a party's event to its hash-chained history, one writer at a time.

Every event of a party carries the hash of the party's previous event, so the party's
writes are serialised: a Redis lock per party (across write API instances), then

1. read the chain head; refuse while the state is being rebuilt;
2. settle an earlier write whose outcome is unknown (see below);
3. record the intent on the head -- the event id, when it settles, its idempotency
   record -- *before* producing, so even a crash leaves a trace;
4. produce with acks=all; on acknowledgement advance the head and clear the intent.

A write whose outcome is unknown (the broker did not answer in time, or the process
died) leaves its intent behind. The next write for the party waits until the intent
settles (the produce timeout plus a margin), then reads the party's records past the
head from Kafka: the head moves to what is really there, and the idempotency record
learns whether the write landed -- so its retry answers the first answer, or writes it
once. What to do at each step is decided by ``consentry_domain.writes``; this class
reads, writes and waits. Chains and idempotency keys survive anything but the loss of
Redis itself; the materialiser also drops a decision re-sent with the same id while
the original is still in force (see ``consentry_domain.slots.merge``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiokafka.errors import KafkaError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from consentry_domain.writes import (
    Forget,
    IdempotencyRecord,
    Intent,
    KeyState,
    Landed,
    Replay,
    settle,
    under_lock,
)
from consentry_events import PartyEvent, TrackChanged, encode, record_hash
from consentry_kafka import KafkaConnection, party_history
from consentry_state import (
    ChainHeads,
    Head,
    IdempotencyRecords,
    NewIntent,
    PartyWrites,
    StateNotWhole,
)
from consentry_writeapi.errors import PublishError, WriteOutcome
from consentry_writeapi.idempotency import Attempt, after_failure, claim
from consentry_writeapi.publisher import Receipt, TopicLog
from consentry_writeapi.schemas import Accepted, accepted


@dataclass(frozen=True, slots=True)
class Written:
    accepted: Accepted
    replayed: bool
    """True when this is the first answer to an earlier request with the same key."""


def replayed(replay: Replay) -> Written:
    return Written(Accepted.model_validate(replay.response), replayed=True)


class PartyLog:
    def __init__(
        self,
        redis: Redis,
        consent: TopicLog,
        kafka: KafkaConnection,
        idempotency: IdempotencyRecords,
        *,
        produce_timeout_s: float,
        settle_margin_s: float,
    ) -> None:
        self._redis = redis
        self._heads = ChainHeads(redis)
        self._consent = consent
        self._kafka = kafka
        self._idempotency = idempotency
        self._settle_after_s = produce_timeout_s + settle_margin_s
        self.lock_ttl_s = 2 * self._settle_after_s + 30
        """Also how long a request under an Idempotency-Key counts as in flight."""
        self._writes = PartyWrites(
            redis, lock_ttl_s=self.lock_ttl_s, wait_s=self._settle_after_s + 10
        )

    async def append(
        self,
        party: str,
        make: Callable[[uuid.UUID, str | None], PartyEvent],
        attempt: Attempt | None,
    ) -> Written:
        """Chain and publish the event ``make(event_id, prev_hash)`` for ``party``."""
        token = uuid.uuid4().hex
        try:
            step = await claim(attempt, str(uuid.uuid4()), self.lock_ttl_s)
            if isinstance(step, Replay):
                return replayed(step)
            # Without an Idempotency-Key the intent goes on the head with the lock (one
            # round trip); with one, only after the key's record is checked under it.
            intent = (
                None if attempt is not None else NewIntent(self._settle_at_ms(), step.event_id, "")
            )
            head = await self._writes.begin(party, token, intent)
        except StateNotWhole:
            raise PublishError(
                "the consent state is being rebuilt from the log; nothing was written, "
                "retry in a few seconds",
                WriteOutcome.NOT_WRITTEN,
            ) from None
        except RedisError as exc:
            raise PublishError(
                f"the consent state is unreachable ({type(exc).__name__}); nothing was written",
                WriteOutcome.NOT_WRITTEN,
            ) from exc
        if head is None:
            raise PublishError(
                f"another write for {party} is still in progress; retry",
                WriteOutcome.NOT_WRITTEN,
            )
        released = False
        try:
            written, released = await self._append_locked(
                party, token, head, intent is not None, step.event_id, make, attempt
            )
            return written
        finally:
            if not released:
                await self._writes.release(party, token)

    def _settle_at_ms(self) -> int:
        return int((time.time() + self._settle_after_s) * 1000)

    async def _append_locked(
        self,
        party: str,
        token: str,
        head: Head,
        intent_asked: bool,
        event_id: str,
        make: Callable[[uuid.UUID, str | None], PartyEvent],
        attempt: Attempt | None,
    ) -> tuple[Written, bool]:
        """The write under the party's lock; also whether the lock is released."""
        try:
            recorded = intent_asked and head.intent is None
            if head.intent is not None:
                head = await self._settle_intent(party, head.intent)
            if attempt is not None:
                current = await attempt.get()
                if (replay := under_lock(current)) is not None:
                    return replayed(replay), False
                if current is None:
                    await attempt.begin(event_id)  # the earlier try never landed
            if not recorded:
                intent = Intent(
                    self._settle_at_ms(),
                    head.offset,
                    event_id,
                    "" if attempt is None else attempt.key,
                )
                await self._heads.record_intent(party, intent)
            event = make(uuid.UUID(event_id), head.digest)
        except (RedisError, KafkaError) as exc:
            raise PublishError(
                f"could not prepare the write ({type(exc).__name__}); nothing was written",
                WriteOutcome.NOT_WRITTEN,
            ) from exc
        value = encode(event)
        try:
            receipt = await self._consent.publish(party.encode(), value)
        except PublishError as exc:
            if await after_failure(attempt, exc, event_id):
                with contextlib.suppress(RedisError):
                    await self._heads.clear_intent(party)
            raise
        answer = accepted(receipt.topic, receipt.partition, receipt.offset, event)
        digest = record_hash(value)
        if attempt is None:
            with contextlib.suppress(RedisError):  # in the log: 202 whatever Redis says now
                await self._writes.finish(party, token, receipt.offset, digest, event)
                return Written(answer, replayed=False), True
            return Written(answer, replayed=False), False
        with contextlib.suppress(RedisError):
            await self._heads.note(party, receipt.offset, digest, event, clear_intent=True)
            await attempt.finish(event_id, answer.model_dump(mode="json"))
        return Written(answer, replayed=False), False

    async def _head(self, party: str) -> Head:
        head = await self._heads.read(party)
        if head is None:
            raise PublishError(
                "the consent state is being rebuilt from the log; nothing was written, "
                "retry in a few seconds",
                WriteOutcome.NOT_WRITTEN,
            )
        return head

    async def _settle_intent(self, party: str, intent: Intent) -> Head:
        """Find out from the log what became of the write behind ``intent``."""
        wait_s = intent.settle_at_ms / 1000 - time.time()
        if wait_s > 0:
            await asyncio.sleep(wait_s)
        past_head = await party_history(self._kafka, party, after=intent.after)
        for record in past_head:
            await self._heads.note(
                party, record.offset, record.digest, record.event, clear_intent=False
            )
        if intent.idempotency_key:
            key_record = await self._idempotency.get(intent.idempotency_key)
            verdict = settle(intent, key_record, past_head)
            if isinstance(verdict, Forget):
                await self._idempotency.forget(intent.idempotency_key)
            elif isinstance(verdict, Landed) and key_record is not None:
                landed = verdict.record
                answer = accepted(landed.topic, landed.partition, landed.offset, landed.event)
                done = IdempotencyRecord(
                    KeyState.DONE,
                    key_record.fingerprint,
                    intent.event_id,
                    key_record.started_ms,
                    answer.model_dump(mode="json"),
                )
                await self._idempotency.put(intent.idempotency_key, done)
        await self._heads.clear_intent(party)
        return await self._head(party)


class CatalogueLog:
    """Track records: whole upserts keyed by ISRC, so no chain and no lock -- a retry after
    an unknown outcome writes the same record again to the same effect. One track takes
    the same idempotency path as a party's writes; an import writes many at once."""

    def __init__(self, catalogue: TopicLog, in_flight_limit_s: float) -> None:
        self._catalogue = catalogue
        self._in_flight_limit_s = in_flight_limit_s

    async def register(self, track: TrackChanged, attempt: Attempt | None) -> Written:
        try:
            step = await claim(attempt, str(uuid.uuid4()), self._in_flight_limit_s)
        except RedisError as exc:
            raise PublishError(
                f"the consent state is unreachable ({type(exc).__name__}); nothing was written",
                WriteOutcome.NOT_WRITTEN,
            ) from exc
        if isinstance(step, Replay):
            return replayed(step)
        try:
            receipt = await self._catalogue.publish(track.isrc.encode(), encode(track))
        except PublishError as exc:
            await after_failure(attempt, exc, step.event_id)
            raise
        answer = accepted(receipt.topic, receipt.partition, receipt.offset)
        if attempt is not None:
            with contextlib.suppress(RedisError):
                await attempt.finish(step.event_id, answer.model_dump(mode="json"))
        return Written(answer, replayed=False)

    async def register_many(self, tracks: Sequence[TrackChanged]) -> list[Receipt]:
        """Every track, sent together; raises ``PublishError`` unless the broker took
        them all (some may be written: sending them again is safe)."""
        if not tracks:
            return []
        return await self._catalogue.publish_many([(t.isrc.encode(), encode(t)) for t in tracks])

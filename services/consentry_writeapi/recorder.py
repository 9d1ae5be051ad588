"""Appending a party's event to its hash-chained history, one writer at a time.

Every event of a party carries the hash of the party's previous event, so the party's
writes are serialised: a Redis lock per party (across write API instances), then

1. read the chain head (``cs:head:<party>``); refuse while the state is being rebuilt;
2. settle an earlier write whose outcome is unknown (see below);
3. record the intent -- ``u`` on the head: the event id, when it settles, its
   idempotency record -- *before* producing, so even a crash leaves a trace;
4. produce with acks=all; on acknowledgement advance the head and clear the intent.

A write whose outcome is unknown (the broker did not answer in time, or the process
died) leaves its intent behind. The next write for the party waits until the intent
settles (the produce timeout plus a margin), then reads the party's records past the
head from Kafka: the head moves to what is really there, and the idempotency record
learns whether the write landed -- so its retry answers the first answer, or writes it
once. Chains and idempotency keys survive anything but the loss of Redis itself; the
materialiser also drops a decision re-sent with the same id while the original is
still in force (see ``consentry_domain.slots.merge``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka.errors import KafkaError
from redis.asyncio import Redis
from redis.exceptions import LockError, NoScriptError, RedisError

from consentry_auth.kafka import KafkaConnection
from consentry_events import (
    CONSENT_CHANGES,
    ConsentChanged,
    DelegationChanged,
    PartyEvent,
    encode,
    record_hash,
)
from consentry_events.tokens import Token
from consentry_state import keys
from consentry_state.scripts import NOTE_PARTY_EVENT
from consentry_writeapi.history import Recorded, party_records
from consentry_writeapi.idempotency import Attempt, IdempotencyStore, Record, State
from consentry_writeapi.publisher import Outcome, Publisher, PublishError
from consentry_writeapi.schemas import Accepted


class IdempotencyConflict(Exception):
    """The Idempotency-Key was first used for a different request."""


class InProgress(Exception):
    """A request with the same Idempotency-Key is being written right now."""


@dataclass(frozen=True, slots=True)
class Written:
    accepted: Accepted
    replayed: bool
    """True when this is the first answer to an earlier request with the same key."""


@dataclass(frozen=True, slots=True)
class Intent:
    settle_at_ms: int
    after: int
    """The head's offset when the intent was recorded: the write, if it landed, is past it
    (the materialiser may move the head on to it meanwhile)."""
    event_id: str
    idempotency_key: str

    def dumps(self) -> str:
        return f"{self.settle_at_ms}|{self.after}|{self.event_id}|{self.idempotency_key}"

    @classmethod
    def loads(cls, raw: str) -> Intent:
        at, after, event_id, key = raw.split("|", 3)
        return cls(int(at), int(after), event_id, key)


@dataclass(frozen=True, slots=True)
class Head:
    offset: int
    """-1 before the party's first event."""
    digest: str | None
    intent: Intent | None


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _event_id(event: PartyEvent) -> str:
    return str(event.decision_id if isinstance(event, ConsentChanged) else event.delegation_id)


def accepted_for(partition: int, offset: int, event: PartyEvent, at: datetime) -> Accepted:
    return Accepted(
        token=str(Token(CONSENT_CHANGES.name, partition, offset)),
        topic=CONSENT_CHANGES.name,
        partition=partition,
        offset=offset,
        accepted_at=at,
        decision_id=event.decision_id if isinstance(event, ConsentChanged) else None,
        delegation_id=event.delegation_id if isinstance(event, DelegationChanged) else None,
    )


class PartyLog:
    def __init__(
        self,
        redis: Redis,
        publisher: Publisher,
        kafka: KafkaConnection,
        idempotency: IdempotencyStore,
        *,
        produce_timeout_s: float,
        settle_margin_s: float,
    ) -> None:
        self._redis = redis
        self._publisher = publisher
        self._kafka = kafka
        self._idempotency = idempotency
        self._settle_after_s = produce_timeout_s + settle_margin_s
        self._lock_ttl_s = 2 * self._settle_after_s + 30

    async def append(
        self,
        party: str,
        make: Callable[[uuid.UUID, str | None], PartyEvent],
        attempt: Attempt | None,
    ) -> Written:
        """Chain and publish the event ``make(event_id, prev_hash)`` for ``party``."""
        event_id = str(uuid.uuid4())
        try:
            if attempt is not None:
                prior = await attempt.begin(event_id)
                if prior is not None:
                    if (replayed := self._replay(prior, attempt)) is not None:
                        return replayed
                    event_id = prior.event_id
            lock = self._redis.lock(
                f"cs:lock:{party}",
                timeout=self._lock_ttl_s,
                blocking_timeout=self._settle_after_s + 10,
                thread_local=False,
            )
            if not await lock.acquire():
                raise PublishError(
                    f"another write for {party} is still in progress; retry", Outcome.NOT_WRITTEN
                )
        except RedisError as exc:
            raise PublishError(
                f"the consent state is unreachable ({type(exc).__name__}); nothing was written",
                Outcome.NOT_WRITTEN,
            ) from exc
        try:
            return await self._append_locked(party, event_id, make, attempt)
        finally:
            with contextlib.suppress(LockError, RedisError):
                await lock.release()

    def _replay(self, prior: Record, attempt: Attempt) -> Written | None:
        if prior.fingerprint != attempt.fingerprint:
            raise IdempotencyConflict
        if prior.state is State.DONE and prior.response is not None:
            return Written(Accepted.model_validate(prior.response), replayed=True)
        in_flight_ms = (time.time() - prior.started_ms / 1000) * 1000
        if prior.state is State.PENDING and in_flight_ms < self._lock_ttl_s * 1000:
            raise InProgress
        return None

    async def _append_locked(
        self,
        party: str,
        event_id: str,
        make: Callable[[uuid.UUID, str | None], PartyEvent],
        attempt: Attempt | None,
    ) -> Written:
        try:
            head = await self._head(party)
            if head.intent is not None:
                head = await self._settle(party, head)
            if attempt is not None:
                current = await attempt.get()
                if current is None:
                    await attempt.begin(event_id)  # the earlier try never landed
                elif current.state is State.DONE and current.response is not None:
                    return Written(Accepted.model_validate(current.response), replayed=True)
            event = make(uuid.UUID(event_id), head.digest)
            intent = Intent(
                int((time.time() + self._settle_after_s) * 1000),
                head.offset,
                event_id,
                "" if attempt is None else attempt.key,
            )
            await self._redis.hset(keys.head_key(party), "u", intent.dumps())
        except (RedisError, KafkaError) as exc:
            raise PublishError(
                f"could not prepare the write ({type(exc).__name__}); nothing was written",
                Outcome.NOT_WRITTEN,
            ) from exc
        value = encode(event)
        try:
            receipt = await self._publisher.publish(CONSENT_CHANGES.name, party.encode(), value)
        except PublishError as exc:
            with contextlib.suppress(RedisError):
                if exc.outcome is Outcome.NOT_WRITTEN:
                    await self._redis.hdel(keys.head_key(party), "u")
                    if attempt is not None:
                        await attempt.forget()
                elif attempt is not None:
                    await attempt.unknown(event_id)
            raise
        accepted = accepted_for(receipt.partition, receipt.offset, event, datetime.now(UTC))
        with contextlib.suppress(RedisError):  # in the log: 202 whatever Redis says now
            await self._note(party, receipt.offset, record_hash(value), event, clear_intent=True)
            if attempt is not None:
                await attempt.finish(event_id, accepted.model_dump(mode="json"))
        return Written(accepted, replayed=False)

    async def _head(self, party: str) -> Head:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.exists(keys.READY)
            pipe.hmget(keys.head_key(party), ["o", "h", "u"])
            ready, (offset, digest, intent) = await pipe.execute()
        if not ready:
            raise PublishError(
                "the consent state is being rebuilt from the log; nothing was written, "
                "retry in a few seconds",
                Outcome.NOT_WRITTEN,
            )
        raw_intent = _text(intent)
        return Head(
            -1 if offset is None else int(offset),
            _text(digest),
            None if raw_intent is None else Intent.loads(raw_intent),
        )

    async def _settle(self, party: str, head: Head) -> Head:
        """Find out from the log what became of the write behind ``head.intent``."""
        assert head.intent is not None
        intent = head.intent
        wait_s = intent.settle_at_ms / 1000 - time.time()
        if wait_s > 0:
            await asyncio.sleep(wait_s)
        records = await party_records(self._kafka, party, after=intent.after)
        for record in records:
            await self._note(party, record.offset, record.digest, record.event, clear_intent=False)
        if intent.idempotency_key:
            await self._settle_attempt(intent, records)
        await self._redis.hdel(keys.head_key(party), "u")
        return await self._head(party)

    async def _settle_attempt(self, intent: Intent, records: list[Recorded]) -> None:
        record = await self._idempotency.get(intent.idempotency_key)
        if record is None or record.event_id != intent.event_id or record.state is State.DONE:
            return
        landed = next((r for r in records if r.event_id == intent.event_id), None)
        if landed is None:
            await self._idempotency.forget(intent.idempotency_key)
            return
        accepted = accepted_for(landed.partition, landed.offset, landed.event, datetime.now(UTC))
        done = Record(
            State.DONE,
            record.fingerprint,
            intent.event_id,
            record.started_ms,
            accepted.model_dump(mode="json"),
        )
        await self._idempotency.put(intent.idempotency_key, done)

    async def _note(
        self, party: str, offset: int, digest: str, event: PartyEvent, *, clear_intent: bool
    ) -> None:
        args: list[str | int] = [party, offset, digest, _event_id(event), int(clear_intent)]
        if isinstance(event, DelegationChanged):
            args += [keys.delegation_field(event.delegate, event.purpose), event.action.value]
        try:
            await self._redis.evalsha(NOTE_PARTY_EVENT.sha, 0, *args)
        except NoScriptError:
            await self._redis.script_load(NOTE_PARTY_EVENT.source)
            await self._redis.evalsha(NOTE_PARTY_EVENT.sha, 0, *args)

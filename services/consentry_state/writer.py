"""Apply events to Redis: one atomic, versioned script call per batch.

The script writes the state *and* the partition watermarks together, and refuses to
move a slot or track backwards, so a redelivered batch -- after a crash before the
offset commit, or from a zombie worker -- changes nothing. That is also why a batch
that failed for a lost script can simply be sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from consentry_domain import Outcome
from consentry_domain.state import entry_of, slot_key_of
from consentry_events import (
    AnyEvent,
    ConsentChanged,
    DecodeError,
    DelegationChanged,
    decode,
    record_hash,
)
from consentry_state import keys
from consentry_state.scripts import APPLY_BATCH, BEAT, MARK_REBUILT, LuaScript


@dataclass(frozen=True, slots=True)
class Applied:
    """An event with its place in the log; ``None`` for a record that was dead-lettered."""

    topic: str
    partition: int
    offset: int
    event: AnyEvent | None
    digest: str = ""
    """The record's hash (a party's chain link); empty for tracks and dead letters."""

    @classmethod
    def decode(
        cls, topic: str, partition: int, offset: int, value: bytes | None
    ) -> tuple[Applied, str | None]:
        """The record as applied, and why it is dead-lettered (``None`` when it is not)."""
        try:
            event = decode(value)
        except DecodeError as exc:
            return cls(topic, partition, offset, None), str(exc)
        digest = "" if value is None or not is_party_event(event) else record_hash(value)
        return cls(topic, partition, offset, event, digest), None


def is_party_event(event: AnyEvent) -> bool:
    return isinstance(event, ConsentChanged | DelegationChanged)


def _args(record: Applied) -> tuple[str | int, ...]:
    mark = keys.watermark_field(record.topic, record.partition)
    event = record.event
    if event is None:
        return ("x", mark, record.offset, "", "", "", "", "", "", "")
    if isinstance(event, ConsentChanged):
        entry = entry_of(event, record.offset)
        return (
            "d",
            mark,
            record.offset,
            event.party,
            keys.slot_field(slot_key_of(event)),
            entry.choice.value,
            entry.decision_id,
            "" if entry.effective_from_ms is None else entry.effective_from_ms,
            "" if entry.expires_at_ms is None else entry.expires_at_ms,
            record.digest,
        )
    if isinstance(event, DelegationChanged):
        return (
            "g",
            mark,
            record.offset,
            event.party,
            keys.delegation_field(event.delegate, event.purpose),
            event.action.value,
            str(event.delegation_id),
            "",
            "",
            record.digest,
        )
    return (
        "t",
        mark,
        record.offset,
        event.isrc,
        event.upc,
        " ".join(event.parties),
        event.status.value,
        "",
        "",
        "",
    )


class StateWriter:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def apply(self, batch: Sequence[Applied]) -> list[Outcome]:
        """Apply a batch in order, atomically; returns each event's outcome."""
        if not batch:
            return []
        args: list[str | int] = [len(batch)]
        for record in batch:
            args.extend(_args(record))
        try:
            results = await self._redis.evalsha(APPLY_BATCH.sha, 0, *args)
        except NoScriptError:
            await self._redis.script_load(APPLY_BATCH.source)
            results = await self._redis.evalsha(APPLY_BATCH.sha, 0, *args)
        return [Outcome(r.decode() if isinstance(r, bytes) else r) for r in results]

    async def beat(self, freshness: dict[str, int]) -> bool:
        """Record each partition's freshness -- only while the state is complete."""
        args: list[str | int] = []
        for field, ms in freshness.items():
            args += [field, ms]
        return bool(await self._script(BEAT, *args))

    async def _script(self, script: LuaScript, *args: str | int) -> object:
        try:
            return await self._redis.evalsha(script.sha, 0, *args)
        except NoScriptError:
            await self._redis.script_load(script.source)
            return await self._redis.evalsha(script.sha, 0, *args)

    async def mark_rebuilt(self, epoch: str, total: int, fields: list[str]) -> bool:
        """Partitions ``fields`` hold the whole log again; True once every partition does."""
        return await self._script(MARK_REBUILT, epoch, total, *fields) == 1

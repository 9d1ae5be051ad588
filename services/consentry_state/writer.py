"""Apply events to Redis: one atomic, versioned script per event, one round trip per batch.

Each script writes the state *and* the partition watermark together, and refuses to
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
from consentry_events import ConsentChanged, TrackChanged
from consentry_state import keys
from consentry_state.scripts import APPLY_DECISION, APPLY_TRACK, LuaScript


@dataclass(frozen=True, slots=True)
class Applied:
    """An event with its place in the log."""

    topic: str
    partition: int
    offset: int
    event: ConsentChanged | TrackChanged


def _call(record: Applied) -> tuple[LuaScript, list[str], list[str | int]]:
    mark = keys.watermark_field(record.topic, record.partition)
    event = record.event
    if isinstance(event, ConsentChanged):
        entry = entry_of(event, record.offset)
        return (
            APPLY_DECISION,
            [keys.party_key(event.party), keys.WATERMARKS],
            [
                keys.slot_field(slot_key_of(event)),
                record.offset,
                entry.choice.value,
                entry.decision_id,
                "" if entry.effective_from_ms is None else entry.effective_from_ms,
                "" if entry.expires_at_ms is None else entry.expires_at_ms,
                mark,
                event.party,
            ],
        )
    return (
        APPLY_TRACK,
        [keys.track_key(event.isrc), keys.WATERMARKS],
        [
            record.offset,
            event.upc,
            " ".join(event.parties),
            event.status.value,
            mark,
            event.isrc,
        ],
    )


class StateWriter:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def apply(self, batch: Sequence[Applied]) -> list[Outcome]:
        """Apply a batch in order; returns each event's outcome."""
        if not batch:
            return []
        calls = [_call(record) for record in batch]
        try:
            return await self._send(calls)
        except NoScriptError:
            for script in {script for script, _, _ in calls}:
                await self._redis.script_load(script.source)
            return await self._send(calls)

    async def _send(
        self, calls: list[tuple[LuaScript, list[str], list[str | int]]]
    ) -> list[Outcome]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for script, script_keys, args in calls:
                pipe.evalsha(script.sha, len(script_keys), *script_keys, *args)
            results = await pipe.execute()
        return [Outcome(r.decode() if isinstance(r, bytes) else r) for r in results]

    async def beat(self, now_ms: int) -> None:
        """Record that the materialiser is alive and applying."""
        await self._redis.set(keys.HEARTBEAT, now_ms)

"""Apply events to Redis: one atomic, versioned script call per batch.

The script writes the state *and* the partition watermarks together, and refuses to
move a slot or track backwards, so a redelivered batch -- after a crash before the
offset commit, or from a zombie worker -- changes nothing. That is also why a batch
that failed for a lost script can simply be sent again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import orjson
from redis.asyncio import Redis

from consentry_domain import ApplyOutcome, Entry
from consentry_domain.state import entry_of, slot_key_of, slot_keys_of
from consentry_domain.state_types import facts_of
from consentry_events import (
    AnyEvent,
    ConsentChanged,
    ConsentChangedMany,
    Decision,
    DelegationChanged,
    DisclosureStated,
    Scope,
)
from consentry_events.logged import LoggedEvent, Position
from consentry_state import keys, layout
from consentry_state.scripts import APPLY_BATCH, BEAT, run

Arg = str | int | list[list[str]]

ToApply = LoggedEvent[AnyEvent] | Position
"""An event at its place, or only a place: a record that is not an event (dead-lettered)
still advances its partition's watermark."""


def _entry_args(event: Decision, entry: Entry) -> tuple[str, str, str, str]:
    """A decision's entry as the merge takes it: choice, id, from and until (ms)."""
    return (
        layout.choice_code(entry.choice),
        layout.short_id(event.decision_id),
        "" if entry.effective_from_ms is None else str(entry.effective_from_ms),
        "" if entry.expires_at_ms is None else str(entry.expires_at_ms),
    )


def _chained(
    kind: str,
    mark: str,
    record: LoggedEvent[AnyEvent],
    party: str,
    own: tuple[Arg, ...],
    *after: Arg,
) -> tuple[Arg, ...]:
    """A party event as the script takes it (``apply_batch.lua``): kind, watermark, offset
    and party, then what is the event's own, then the party's chain head it advances (key
    and digest), then whatever the kind keeps after the head."""
    head_key, _ = layout.head_place(party)
    return (
        kind,
        mark,
        record.offset,
        party,
        *own,
        head_key,
        layout.short_digest(record.digest),
        *after,
    )


def _args(record: ToApply) -> tuple[Arg, ...]:
    mark = keys.watermark_field(record.topic, record.partition)
    if isinstance(record, Position):
        return ("x", mark, record.offset)
    event = record.event
    if isinstance(event, ConsentChanged):
        slot = slot_key_of(event)
        group_key, group_field = layout.group_place(slot)
        slot_party = "" if slot.scope is Scope.PARTY else event.party
        own = (group_key, group_field, slot_party, slot.purpose)
        in_track = "1" if slot.scope is Scope.TRACK else ""
        entry = _entry_args(event, entry_of(event, record.offset))
        return _chained(
            "d", mark, record, event.party, (*own, *entry), layout.marker(slot), in_track
        )
    if isinstance(event, ConsentChangedMany):
        entry = _entry_args(event, entry_of(event, record.offset))
        in_track = "1" if event.scope is Scope.TRACK else ""
        groups = [[*layout.group_place(key), layout.marker(key)] for key in slot_keys_of(event)]
        return _chained(
            "m", mark, record, event.party, (event.party, event.purpose, *entry), in_track, groups
        )
    if isinstance(event, DelegationChanged):
        field = keys.delegation_field(event.delegate, event.purpose)
        return _chained("g", mark, record, event.party, (field, event.action.value))
    if isinstance(event, DisclosureStated):
        # A statement on many tracks: a slot of each track's own group (no marker on the
        # head: a statement is no decision), merged like a decision without a window.
        code = layout.statement_code(event.contains_ai)
        entry = (code, layout.short_id(event.statement_id), "", "")
        groups = [[*layout.track_place(isrc), ""] for isrc in event.works]
        stated = (event.party, layout.STATEMENTS, *entry)
        return _chained("m", mark, record, event.party, stated, "1", groups)
    key, field = layout.track_place(event.isrc)
    return (
        "t",
        mark,
        record.offset,
        key,
        field,
        event.isrc,
        event.upc,
        layout.status_code(event.status),
        " ".join(event.parties),
        layout.record_tail(event.contains_ai, facts_of(event.shares, event.ai_credits)),
    )


def parts(batch: Sequence[ToApply], most: int) -> list[list[ToApply]]:
    """``batch`` in order, in parts of at most ``most`` slot or track writes -- one script
    call each, which bounds how long Redis is held. A decision on many works counts each
    work, and one larger than ``most`` is a part of its own: it is applied whole."""
    out: list[list[ToApply]] = []
    part: list[ToApply] = []
    weight = 0
    for record in batch:
        w = _writes(record)
        if part and weight + w > most:
            out.append(part)
            part, weight = [], 0
        part.append(record)
        weight += w
    if part:
        out.append(part)
    return out


def _writes(record: ToApply) -> int:
    if isinstance(record, LoggedEvent) and isinstance(
        record.event, ConsentChangedMany | DisclosureStated
    ):
        return len(record.event.works)
    return 1


class StateWriter:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def apply(self, batch: Sequence[ToApply]) -> list[ApplyOutcome]:
        """Apply a batch in order, atomically; returns each record's outcome."""
        if not batch:
            return []
        results = await run(self._redis, APPLY_BATCH, orjson.dumps([_args(r) for r in batch]))
        if not isinstance(results, list):
            raise TypeError(f"unexpected reply {results!r}")
        return [ApplyOutcome(r.decode() if isinstance(r, bytes) else r) for r in results]

    async def beat(self, freshness: Mapping[tuple[str, int], int]) -> bool:
        """Record each (topic, partition)'s freshness -- the time (epoch ms) up to which
        its state is complete -- only while the state is whole; False when it is not."""
        args: list[str | int] = []
        for (topic, partition), ms in freshness.items():
            args += [keys.watermark_field(topic, partition), ms]
        return bool(await run(self._redis, BEAT, *args))

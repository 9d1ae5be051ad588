"""A party's chain head, and the intent a write leaves on it before it is produced.

The head (``layout.head_place``) holds the offset, record hash and event id of the
party's latest event; the materialiser advances it as it applies, and the write API
right after each acknowledgement (``note``), so the next write chains onto it at once.
A write's intent (``layout.intent_field``) is recorded before producing and cleared once
the outcome is known (see ``consentry_domain.writes``).
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from consentry_domain.writes import Intent
from consentry_events import DelegationChanged, PartyEvent
from consentry_state import keys, layout
from consentry_state.scripts import NOTE_PARTY_EVENT, run


@dataclass(frozen=True, slots=True)
class Head:
    offset: int
    """-1 before the party's first event."""
    digest: str | None
    intent: Intent | None


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def dump_intent(intent: Intent) -> str:
    return f"{intent.settle_at_ms}|{intent.after}|{intent.event_id}|{intent.idempotency_key}"


def load_intent(raw: str) -> Intent:
    at, after, event, key = raw.split("|", 3)
    return Intent(int(at), int(after), event, key)


def read_head(value: bytes | str | None, intent: str | None) -> Head:
    """A head as Redis gives it back (no value, or an empty one, before the party's first
    event), with the intent left on it if any: what every reader of a head makes of it."""
    found = layout.head_of(value) if value else None
    offset, digest = (-1, None) if found is None else found
    return Head(offset, digest, load_intent(intent) if intent else None)


def head_args(party: str, offset: int, digest: str) -> list[str | int]:
    """How every script that advances a party's head (``lua/party.lua``) begins its
    arguments: the party, its head's key, the event's offset and its short digest."""
    key, _ = layout.head_place(party)
    return [party, key, offset, layout.short_digest(digest)]


class ChainHeads:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def read(self, party: str) -> Head | None:
        """The party's head; None while the state is not whole (being rebuilt), when the
        head cannot be trusted."""
        key, field = layout.head_place(party)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.exists(keys.READY)
            pipe.hmget(key, [field, layout.intent_field(party)])
            ready, (head, intent) = await pipe.execute()
        if not ready:
            return None
        return read_head(head, _text(intent))

    async def record_intent(self, party: str, intent: Intent) -> None:
        key, _ = layout.head_place(party)
        await self._redis.hset(key, layout.intent_field(party), dump_intent(intent))

    async def clear_intent(self, party: str) -> None:
        key, _ = layout.head_place(party)
        await self._redis.hdel(key, layout.intent_field(party))

    async def note(
        self, party: str, offset: int, digest: str, event: PartyEvent, *, clear_intent: bool
    ) -> bool:
        """The party's event is in the log at ``offset``: advance the head (never
        backwards) and, for a delegation, the delegations at once. False while the
        state is not whole."""
        args = [*head_args(party, offset, digest), int(clear_intent), *delegation_args(event)]
        return await run(self._redis, NOTE_PARTY_EVENT, *args) == 1


def delegation_args(event: PartyEvent) -> list[str]:
    """What a script that notes a party's event applies at once: a delegation's
    ``<delegate>|<purpose>`` and grant/revoke; nothing for a decision."""
    if isinstance(event, DelegationChanged):
        return [keys.delegation_field(event.delegate, event.purpose), event.action.value]
    return []

"""Who may decide for a party: its delegations as materialised (and noted by the write API)."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from consentry_events import DelegationAction
from consentry_state import keys
from consentry_state.text import text as _text


@dataclass(frozen=True, slots=True, order=True)
class Delegation:
    delegate: str
    purpose: str
    """The purpose, and every purpose under it."""
    offset: int
    """The party's order of the latest grant or revoke for this (delegate, purpose)."""
    action: DelegationAction


@dataclass(frozen=True, slots=True, order=True)
class Delegator:
    """A delegation seen from its delegate."""

    party: str
    purpose: str
    offset: int
    action: DelegationAction


class Delegations:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def of(self, party: str) -> list[Delegation]:
        """The party's latest grant or revoke per (delegate, purpose), sorted."""
        raw = await self._redis.hgetall(keys.delegations_key(party))
        return sorted(Delegation(*_record(field, value)) for field, value in raw.items())

    async def granted(self, party: str) -> list[Delegation]:
        """Only the grants in force now."""
        return [d for d in await self.of(party) if d.action is DelegationAction.GRANT]

    async def to(self, delegate: str) -> list[Delegator]:
        """Every party that ever delegated a purpose to ``delegate``: its latest grant or
        revoke per (party, purpose), sorted."""
        raw = await self._redis.hgetall(keys.delegators_key(delegate))
        return sorted(Delegator(*_record(field, value)) for field, value in raw.items())


def _record(field: bytes | str, value: bytes | str) -> tuple[str, str, int, DelegationAction]:
    """``<who>|<purpose>`` and ``<offset>|grant|revoke``: who (the delegate or the party,
    by the hash), the purpose, the offset and the action."""
    who, purpose = _text(field).split("|", 1)
    offset, action = _text(value).split("|", 1)
    return who, purpose, int(offset), DelegationAction(action)

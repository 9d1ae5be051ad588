"""Each rights holder's revenue statements, in the enforcer's store: published by
``consentry-admin statement --publish`` (user ``settle``), read by the write API for the
party (and so by the portal).

A statement is derived from the logs and reproducible from them byte for byte, so the
store holds a copy, not the record: publishing a period's pool again replaces what
every party held of it, in one transaction, and a lost store is refilled by settling
again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from redis.asyncio import Redis

from consentry_state import keys
from consentry_state.text import text as _text

Format = Literal["json", "csv"]


@dataclass(frozen=True, slots=True)
class PartyStatement:
    """One party's view of one pool's statement, as JSON and as CSV."""

    json: str
    csv: str


class StatementViews:
    def __init__(self, store: Redis) -> None:
        self._store = store

    async def publish(self, period: str, pool: str, views: Mapping[str, PartyStatement]) -> None:
        """Give each party of ``views`` its view of the period's pool, and take it from
        the parties an earlier publication gave it to and this one does not name."""
        issued = keys.issued_key(period, pool)
        before = {_text(p) for p in await self._store.smembers(issued)}
        place = f"{period}|{pool}"
        async with self._store.pipeline(transaction=True) as pipe:
            for party in sorted(before - set(views)):
                pipe.hdel(keys.statements_key(party), f"{place}|json", f"{place}|csv")
            pipe.delete(issued)
            for party, view in sorted(views.items()):
                pipe.hset(
                    keys.statements_key(party),
                    mapping={f"{place}|json": view.json, f"{place}|csv": view.csv},
                )
            if views:
                pipe.sadd(issued, *sorted(views))
            await pipe.execute()

    async def published(self, party: str) -> list[tuple[str, str, str]]:
        """The party's statements: (period, pool, its JSON), by period then pool."""
        found: Mapping[bytes | str, bytes | str] = await self._store.hgetall(
            keys.statements_key(party)
        )
        views: list[tuple[str, str, str]] = []
        for field, value in found.items():
            period, pool, kind = _text(field).rsplit("|", 2)
            if kind == "json":
                views.append((period, pool, _text(value)))
        return sorted(views)

    async def statement(self, party: str, period: str, pool: str, form: Format) -> str | None:
        """The party's view of the period's pool, or None if none was published to it."""
        found = await self._store.hget(keys.statements_key(party), f"{period}|{pool}|{form}")
        return None if found is None else _text(found)

"""The meter's views of each rights holder's usage and violations, in the enforcer's
store: written by the meter after its table (the system of record is its changelog, and
before that the usage topic), read by the write API for the party.

Every write sets a value the meter's table holds (never an increment), so writing a
view again after a crash or a rebalance changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from redis.asyncio import Redis

from consentry_state import keys
from consentry_state.text import text as _text


class UsageViews:
    def __init__(self, store: Redis) -> None:
        self._store = store

    async def write(
        self,
        counters: Iterable[tuple[str, str, int, Decimal]],
        violations: Iterable[tuple[str, str, str]],
    ) -> None:
        """``counters``: (party, counter, partition, units); ``violations``: (party,
        ``<reporter>|<use id>``, the event's JSON). One transaction."""
        by_party: dict[str, dict[Any, Any]] = defaultdict(dict)
        for party, counter, partition, units in counters:
            by_party[party][f"{counter}|{partition}"] = str(units)
        seen: dict[str, dict[Any, Any]] = defaultdict(dict)
        for party, use, event in violations:
            seen[party][use] = event
        if not by_party and not seen:
            return
        async with self._store.pipeline(transaction=True) as pipe:
            for party, fields in by_party.items():
                pipe.hset(keys.usage_key(party), mapping=fields)
            for party, fields in seen.items():
                pipe.hset(keys.violations_key(party), mapping=fields)
            await pipe.execute()

    async def usage(self, party: str) -> dict[str, Decimal]:
        """The party's counters (summed over the meter's partitions)."""
        found: Mapping[bytes | str, bytes | str] = await self._store.hgetall(keys.usage_key(party))
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for field, units in found.items():
            counter = _text(field).rsplit("|", 1)[0]
            totals[counter] += Decimal(_text(units))
        return dict(totals)

    async def violations(self, party: str) -> list[str]:
        """The party's violations (events' JSON), by reporter and use id."""
        found: Mapping[bytes | str, bytes | str] = await self._store.hgetall(
            keys.violations_key(party)
        )
        return [_text(found[field]) for field in sorted(found, key=_text)]

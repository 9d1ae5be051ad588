"""Read-only views of what Redis holds, record by record: a party's decision slots as
the checks see them (the write API's "current decisions"), and a track's record (audits
and tests comparing Redis with a replay of the log). ``read_fields`` is how any bucketed
hash (here, or in the enforcer's store) is read many fields at a time."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any, TypeVar

from redis.asyncio import Redis

from consentry_domain import Slot, SlotKey, Track
from consentry_events import Scope
from consentry_state import layout

Item = TypeVar("Item", bound=Hashable)


async def read_fields(
    redis: Redis, places: Iterable[tuple[Item, tuple[str, str]]]
) -> dict[Item, Any]:
    """The value (None where there is none) at each item's ``(key, field)``: one HMGET per
    key, all in one round trip. How bucketed hashes -- tracks, titles, published answers
    -- are read many items at a time."""
    buckets: dict[str, list[tuple[Item, str]]] = {}
    for item, (key, field) in places:
        buckets.setdefault(key, []).append((item, field))
    async with redis.pipeline(transaction=False) as pipe:
        for key, members in buckets.items():
            pipe.hmget(key, [field for _, field in members])
        replies = await pipe.execute()
    return {
        item: value
        for members, values in zip(buckets.values(), replies, strict=True)
        for (item, _), value in zip(members, values, strict=True)
    }


class StoredState:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def party_slots(self, party: str) -> dict[SlotKey, Slot]:
        """Every materialised decision slot of one party: its own group, then the groups
        of the releases and tracks named after its head."""
        own_key, own_field = layout.party_decisions_place(party)
        head_key, head_field = layout.head_place(party)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hget(own_key, own_field)
            pipe.hget(head_key, head_field)
            own, head = await pipe.execute()
        found = {
            SlotKey(party, Scope.PARTY, "", g.purpose): g.slot
            for g in ([] if own is None else layout.decode_group(own))
        }
        works = [] if head is None else layout.works_of(head)
        async with self._redis.pipeline(transaction=False) as pipe:
            for scope, work in works:
                place = (
                    layout.release_decisions_place(work)
                    if scope is Scope.RELEASE
                    else layout.track_place(work)
                )
                pipe.hget(*place)
            groups = await pipe.execute()
        for (scope, work), group in zip(works, groups, strict=True):
            if group is None:
                continue
            if scope is Scope.TRACK:
                group = layout.split_track(group)[1]
            for g in layout.decode_group(group):
                if g.party == party:
                    found[SlotKey(party, scope, work, g.purpose)] = g.slot
        return found

    async def track(self, isrc: str) -> tuple[int, Track] | None:
        """The track's record and the catalogue offset it came from."""
        raw = await self._redis.hget(*layout.track_place(isrc))
        if raw is None:
            return None
        return layout.decode_track(isrc, layout.split_track(raw)[0])

    async def disclosure(self, isrc: str) -> tuple[Track | None, dict[str, str]]:
        """The track's record (None when not registered) with the delivery's disclosure,
        and each rights holder's standing statement about it (party -> level)."""
        return (await self.disclosures([isrc])).get(isrc, (None, {}))

    async def disclosures(self, isrcs: Sequence[str]) -> dict[str, tuple[Track, dict[str, str]]]:
        """``disclosure`` of many tracks in one round trip (an ISRC not held is left out)."""
        raws = await read_fields(self._redis, ((i, layout.track_place(i)) for i in isrcs))
        held: dict[str, tuple[Track, dict[str, str]]] = {}
        for isrc, raw in raws.items():
            if raw is None:
                continue
            record, track_slots = layout.split_track(raw)
            if (decoded := layout.decode_track(isrc, record)) is not None:
                held[isrc] = decoded[1], layout.statements(track_slots)
        return held

    async def tracks(self, isrcs: Sequence[str]) -> dict[str, Track]:
        """The tracks held, by ISRC (one round trip, one HMGET per bucket; an ISRC not
        held is left out)."""
        return {isrc: track for isrc, (track, _) in (await self.disclosures(isrcs)).items()}

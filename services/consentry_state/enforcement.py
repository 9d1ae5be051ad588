"""The enforcer's own store -- a Redis of its own, never the check side's (so no check-side
replica holds it): which tracks a decision can reach, the answers last published
downstream, the decision windows that open or close later, and how far each fan-out got.

* ``CatalogueIndex``: a party's releases and a release's tracks, added to from catalogue
  records and never removed from. It over-approximates (a track moved to another release
  or a party taken off a track stays listed): every candidate is resolved against the
  check state, where such a track's answer does not change, so an extra candidate costs
  work and never publishes a wrong answer;
* ``PublishedAnswers``: per track and purpose (in hashes per ISRC prefix), written only
  after the broker acknowledged the enforcement event;
* ``DecisionWindows``: ``<ms>|<party>|<slot field>`` scored by the instant;
* ``FanOuts``: the last release done of a decision's fan-out, so a crash resumes it;
* ``StoreMarks``: whether the store is whole, and who is recovering it.

Everything here is derived from the logs and can be rebuilt from them
(``consentry_enforcer.recovery``); ``StoreMarks`` says when that is needed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import WatchError
from redis.typing import EncodableT, FieldT

from consentry_domain import SlotKey, Verdict
from consentry_events import TrackChanged
from consentry_state import keys
from consentry_state.stored import read_fields
from consentry_state.text import text as _text


class CatalogueIndex:
    def __init__(self, store: Redis) -> None:
        self._store = store

    async def add(self, tracks: Iterable[TrackChanged]) -> None:
        """Index track records: the release lists the track, each party the release; the
        titles, when given, are kept for people (the portal)."""
        on: dict[str, list[str]] = {}
        held: dict[str, set[str]] = {}
        titles: dict[str, dict[FieldT, EncodableT]] = {}
        release_titles: dict[FieldT, EncodableT] = {}
        for track in tracks:
            on.setdefault(track.upc, []).append(track.isrc)
            for party in track.parties:
                held.setdefault(party, set()).add(track.upc)
            if track.title:
                key, field = keys.title_place(track.isrc)
                titles.setdefault(key, {})[field] = track.title
            if track.release_title:
                release_titles[track.upc] = track.release_title
        if not on:
            return
        async with self._store.pipeline(transaction=False) as pipe:
            for upc, isrcs in on.items():
                pipe.sadd(keys.release_tracks_key(upc), *isrcs)
            for party, upcs in held.items():
                pipe.sadd(keys.party_releases_key(party), *upcs)
            for key, mapping in titles.items():
                pipe.hset(key, mapping=mapping)
            if release_titles:
                pipe.hset(keys.RELEASE_TITLES, mapping=release_titles)
            await pipe.execute()

    async def titles(self, isrcs: Sequence[str], upcs: Sequence[str]) -> dict[str, str]:
        """The titles known of these tracks and releases (by ISRC or UPC): one HMGET per
        title bucket and one for the releases."""
        places = [(isrc, keys.title_place(isrc)) for isrc in isrcs]
        places += [(upc, (keys.RELEASE_TITLES, upc)) for upc in upcs]
        found = await read_fields(self._store, places)
        return {item: _text(title) for item, title in found.items() if title is not None}

    async def releases_of(self, parties: Sequence[str]) -> list[list[str]]:
        """For each party, the UPCs on which it holds rights in some track, sorted."""
        async with self._store.pipeline(transaction=False) as pipe:
            for party in parties:
                pipe.smembers(keys.party_releases_key(party))
            found = await pipe.execute()
        return [sorted(_text(m) for m in members) for members in found]

    async def holds(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        """For each (party, upc): whether the party holds rights in a track on it."""
        async with self._store.pipeline(transaction=False) as pipe:
            for party, upc in pairs:
                pipe.sismember(keys.party_releases_key(party), upc)
            return [bool(found) for found in await pipe.execute()]

    async def release_counts(self, parties: Sequence[str]) -> list[int]:
        """How many releases each party holds rights on."""
        async with self._store.pipeline(transaction=False) as pipe:
            for party in parties:
                pipe.scard(keys.party_releases_key(party))
            return [int(n) for n in await pipe.execute()]

    async def releases(self, count: int = 1000) -> AsyncIterator[list[str]]:
        """Every indexed release's UPC, about ``count`` at a time (any order; a release
        added meanwhile may be missed, none is repeated within a batch)."""
        batch: list[str] = []
        async for raw in self._store.scan_iter(match=keys.RELEASE_TRACKS_PATTERN, count=count):
            batch.append(keys.release_of_tracks_key(_text(raw)))
            if len(batch) >= count:
                yield batch
                batch = []
        if batch:
            yield batch

    async def tracks_on(self, upcs: Sequence[str]) -> dict[str, list[str]]:
        """The ISRCs on each release, sorted."""
        async with self._store.pipeline(transaction=False) as pipe:
            for upc in upcs:
                pipe.smembers(keys.release_tracks_key(upc))
            found = await pipe.execute()
        return {
            upc: sorted(_text(m) for m in members) for upc, members in zip(upcs, found, strict=True)
        }


class PublishedAnswers:
    """Only answers that differ from the purpose's default are kept: a pair with nothing
    recorded is believed downstream to have the default."""

    def __init__(self, store: Redis) -> None:
        self._store = store

    async def get(
        self, isrcs: Sequence[str], purposes: Sequence[str]
    ) -> dict[tuple[str, str], Verdict | None]:
        """The answer last published for each (track, purpose); None: the default."""
        pairs = [(isrc, purpose) for isrc in isrcs for purpose in purposes]
        found = await read_fields(self._store, ((p, keys.published_place(*p)) for p in pairs))
        return {pair: None if v is None else Verdict(_text(v)) for pair, v in found.items()}

    async def record(self, answers: Mapping[str, Mapping[str, Verdict | None]]) -> None:
        """Purpose -> ISRC -> the answer published, kept; or forgotten (None: back to the
        default). A command per bucket."""
        kept: dict[str, dict[FieldT, EncodableT]] = {}
        forgotten: dict[str, list[str]] = {}
        for purpose, of_purpose in answers.items():
            for isrc, verdict in of_purpose.items():
                key, field = keys.published_place(isrc, purpose)
                if verdict is None:
                    forgotten.setdefault(key, []).append(field)
                else:
                    kept.setdefault(key, {})[field] = verdict.value
        if not kept and not forgotten:
            return
        async with self._store.pipeline(transaction=False) as pipe:
            for key, mapping in kept.items():
                pipe.hset(key, mapping=mapping)
            for key, fields in forgotten.items():
                pipe.hdel(key, *fields)
            await pipe.execute()


@dataclass(frozen=True, slots=True)
class DueWindow:
    """A decision's window opened or closed at ``at_ms``."""

    key: SlotKey
    at_ms: int
    member: str


class DecisionWindows:
    def __init__(self, store: Redis) -> None:
        self._store = store

    async def schedule(self, slots: Iterable[SlotKey], instants_ms: Sequence[int]) -> None:
        """Re-evaluate the slots' tracks at each instant (a window's opening and closing);
        one command however many slots (a decision on many works shares its window)."""
        members = {
            f"{ms}|{key.party}|{keys.slot_field(key)}": ms for key in slots for ms in instants_ms
        }
        if members:
            await self._store.zadd(keys.ENFORCER_DUE, members)

    async def due(self, now_ms: int) -> list[DueWindow]:
        """Windows that opened or closed by ``now_ms`` and were not yet handled."""
        found = []
        for raw in await self._store.zrangebyscore(keys.ENFORCER_DUE, "-inf", now_ms):
            if not isinstance(raw, bytes | str):  # members only: no scores were asked for
                raise TypeError(f"unexpected member {raw!r}")
            member = _text(raw)
            at, party, field = member.split("|", 2)
            found.append(DueWindow(keys.parse_slot_field(party, field), int(at), member))
        return found

    async def handled(self, windows: Sequence[DueWindow]) -> None:
        if windows:
            await self._store.zrem(keys.ENFORCER_DUE, *(w.member for w in windows))


class FanOuts:
    """A decision's fan-out goes release by release in UPC order; after each chunk the
    last UPC done is kept, so a worker that takes the decision over after a crash
    resumes after it instead of starting again."""

    def __init__(self, store: Redis) -> None:
        self._store = store

    async def resume_after(self, topic: str, partition: int, offset: int) -> str | None:
        """The last UPC done; None if the fan-out has not started."""
        raw = await self._store.get(keys.fanout_key(topic, partition, offset))
        return None if raw is None else _text(raw)

    async def done_up_to(self, topic: str, partition: int, offset: int, upc: str) -> None:
        await self._store.set(keys.fanout_key(topic, partition, offset), upc)

    async def finish(self, topic: str, partition: int, offset: int) -> None:
        await self._store.delete(keys.fanout_key(topic, partition, offset))


class StoreMarks:
    """A new or lost store lacks ``ENFORCER_WHOLE``: the first worker to see that claims
    the recovery (for ``ttl_s``, renewed while it works), the others wait."""

    def __init__(self, store: Redis) -> None:
        self._store = store

    async def is_whole(self) -> bool:
        return bool(await self._store.exists(keys.ENFORCER_WHOLE))

    async def claim(self, owner: str, ttl_s: int) -> bool:
        """Take (or renew) the recovery; False while another worker holds it."""
        if await self._store.set(keys.ENFORCER_RECOVERY, owner, nx=True, ex=ttl_s):
            return True
        held = await self._store.get(keys.ENFORCER_RECOVERY)
        if held is not None and _text(held) == owner:
            await self._store.expire(keys.ENFORCER_RECOVERY, ttl_s)
            return True
        return False

    async def mark_whole(self, owner: str) -> bool:
        """Declare the store whole, if ``owner`` still holds the recovery: a store lost
        again meanwhile (the claim gone with it) is not declared whole."""
        async with self._store.pipeline(transaction=True) as pipe:
            await pipe.watch(keys.ENFORCER_RECOVERY)
            held = await pipe.get(keys.ENFORCER_RECOVERY)
            if held is None or _text(held) != owner:
                return False
            pipe.multi()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
            pipe.set(keys.ENFORCER_WHOLE, "1")
            pipe.delete(keys.ENFORCER_RECOVERY)
            try:
                await pipe.execute()
            except WatchError:
                return False
        return True

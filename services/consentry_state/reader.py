"""Read everything a check needs for a batch of tracks in one Redis round trip.

The gather script returns the raw values (tracks, and the slot groups of the tracks,
their releases and their parties, each distinct one once); decoding keeps only the
slots for the asked purpose's paths, and a group's text is decoded once for all the
batches that read it.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace

from redis.asyncio import Redis

from consentry_domain import Slot, SlotKey, Track
from consentry_domain.purposes import ancestors
from consentry_events import Scope, TrackStatus, most_inclusive
from consentry_state import keys, layout
from consentry_state.scripts import GATHER, run
from consentry_state.text import text as _text

Slots = tuple[tuple[SlotKey, Slot], ...]
Candidates = dict[str, Slots]
"""Per party, the slots that may apply to a track: shared between the tracks that read the
same group (never mutated)."""


@dataclass(frozen=True, slots=True)
class TrackView:
    track: Track
    candidates: Candidates

    @property
    def tags(self) -> tuple[str, ...]:
        """The invalidation tags an answer about this track depends on."""
        return (keys.track_tag(self.track.isrc), *map(keys.party_tag, self.track.parties))


@dataclass(frozen=True, slots=True)
class Snapshot:
    fresh_until_ms: int | None
    """The least fresh partition's "complete up to" time (epoch ms); None while the state
    is incomplete, no worker vouches for it, or it is in another layout than this code's."""
    watermark: int | None
    """The offset applied on the asked partition (a consistency token's), if asked."""
    tracks: dict[str, TrackView | None]


def _int_or_none(value: bytes | str | None) -> int | None:
    return None if value is None else int(value)


@functools.lru_cache(maxsize=100_000)
def _decoded(raw: bytes | str, paths: frozenset[str]) -> tuple[layout.GroupSlot, ...]:
    """A slot group's slots for ``paths``, by content: a label's group, read by every
    batch with one of its tracks, is decoded once (values are immutable text)."""
    return tuple(layout.decode_group(raw, paths))


@functools.lru_cache(maxsize=100_000)
def _party_wide(party: str, raw: bytes | str, paths: frozenset[str]) -> Slots:
    """A party's own group as candidates: one tuple shared by every track of the party."""
    return tuple((SlotKey(party, Scope.PARTY, "", g.purpose), g.slot) for g in _decoded(raw, paths))


@functools.lru_cache(maxsize=100_000)
def _on_release(upc: str, raw: bytes | str, paths: frozenset[str]) -> dict[str, Slots]:
    """A release's group as candidates, per party: shared by every track on the release."""
    by_party: dict[str, list[tuple[SlotKey, Slot]]] = {}
    for g in _decoded(raw, paths):
        key = SlotKey(g.party, Scope.RELEASE, upc, g.purpose)
        by_party.setdefault(g.party, []).append((key, g.slot))
    return {party: tuple(slots) for party, slots in by_party.items()}


def _parsed(isrc: str, raw_track: bytes | str) -> tuple[Track | None, str]:
    """The track's record (None: only decisions about it have arrived, not the track
    itself), its disclosure merged with its current holders' statements, and its own
    slot group."""
    record, track_slots = layout.split_track(raw_track)
    decoded = layout.decode_track(isrc, record)
    if decoded is None:
        return None, track_slots
    track = decoded[1]
    stated = layout.statements(track_slots)
    if stated:
        held = [level for party, level in stated.items() if party in track.parties]
        if held:
            track = replace(track, disclosure=most_inclusive([track.disclosure, *held]))
    return track, track_slots


def _view(
    isrc: str,
    track: Track,
    track_slots: str,
    releases: dict[str, bytes | str],
    parties: dict[str, bytes | str],
    paths: frozenset[str],
) -> TrackView:
    candidates: Candidates = {}
    for party in track.parties:
        if (raw := parties.get(party)) is not None and (slots := _party_wide(party, raw, paths)):
            candidates[party] = slots
    if (raw := releases.get(track.upc)) is not None:
        for party, slots in _on_release(track.upc, raw, paths).items():
            if party in track.parties:
                candidates[party] = candidates.get(party, ()) + slots
    if track_slots:
        for g in _decoded(track_slots, paths):
            if g.party in track.parties:
                key = SlotKey(g.party, Scope.TRACK, isrc, g.purpose)
                candidates[g.party] = (*candidates.get(g.party, ()), (key, g.slot))
    return TrackView(track, candidates)


@dataclass(frozen=True, slots=True)
class Read:
    """What one gather returned, for any purpose."""

    isrcs: Sequence[str]
    fresh_until_ms: int | None
    watermark: int | None
    tracks: list[bytes | str | None]
    releases: dict[str, bytes | str]
    parties: dict[str, bytes | str]
    parsed: dict[str, tuple[Track | None, str]] = field(default_factory=dict)
    """Each track's record, decoded once for every purpose asked of this read."""

    def without_decisions(self, excluded: Collection[str] = ()) -> set[str]:
        """The tracks known and active to which no decision can apply: nothing decided on
        them, on their release, or by any of their parties party-wide, and not disclosed
        as ``excluded`` AI -- so every answer about them is the purpose's default
        (``consentry_domain.resolve``: silent parties contribute the default)."""
        quiet: set[str] = set()
        for isrc, raw in zip(self.isrcs, self.tracks, strict=True):
            if raw is None:
                continue
            if (parsed := self.parsed.get(isrc)) is None:
                parsed = self.parsed[isrc] = _parsed(isrc, raw)
            track, track_slots = parsed
            if (
                track is not None
                and track.status is TrackStatus.ACTIVE
                and track.disclosure not in excluded
                and not track_slots
                and track.upc not in self.releases
                and not any(party in self.parties for party in track.parties)
            ):
                quiet.add(isrc)
        return quiet

    def held(self, isrcs: Iterable[str] | None = None) -> dict[str, Track]:
        """The tracks of this read (of ``isrcs``, if given) the catalogue holds."""
        wanted = None if isrcs is None else set(isrcs)
        found: dict[str, Track] = {}
        for isrc, raw in zip(self.isrcs, self.tracks, strict=True):
            if raw is None or (wanted is not None and isrc not in wanted):
                continue
            if (parsed := self.parsed.get(isrc)) is None:
                parsed = self.parsed[isrc] = _parsed(isrc, raw)
            if parsed[0] is not None:
                found[isrc] = parsed[0]
        return found

    def disclosures(self, isrcs: Iterable[str]) -> dict[str, str]:
        """The known AI disclosure of each of ``isrcs`` this read holds (unknown ones left
        out)."""
        return {i: t.disclosure for i, t in self.held(isrcs).items() if t.disclosure is not None}

    def views(self, purpose: str, only: Sequence[str] | None = None) -> dict[str, TrackView | None]:
        """Each track (of ``only``, if given) with its candidate slots for ``purpose``."""
        paths = frozenset(ancestors(purpose))
        wanted = None if only is None else set(only)
        views: dict[str, TrackView | None] = {}
        for isrc, raw in zip(self.isrcs, self.tracks, strict=True):
            if wanted is not None and isrc not in wanted:
                continue
            if raw is None:
                views[isrc] = None
                continue
            if (parsed := self.parsed.get(isrc)) is None:
                parsed = self.parsed[isrc] = _parsed(isrc, raw)
            track, track_slots = parsed
            views[isrc] = (
                None
                if track is None
                else _view(isrc, track, track_slots, self.releases, self.parties, paths)
            )
        return views


class StateReader:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def read(self, isrcs: Sequence[str], watermark_of: tuple[str, int] | None = None) -> Read:
        """The tracks' records and every slot group they depend on, the least freshness,
        and the watermark of ``watermark_of`` (topic, partition) if given -- all read
        atomically."""
        mark = "" if watermark_of is None else keys.watermark_field(*watermark_of)
        reply = await run(self._redis, GATHER, mark, " ".join(isrcs), read_only=True)
        if not isinstance(reply, list):
            raise TypeError(f"unexpected reply {reply!r}")
        fresh, watermark, version, tracks, releases, parties = reply
        if version is None or _text(version) != layout.VERSION:
            fresh = None  # another layout: nothing here can be vouched for
        return Read(
            isrcs,
            _int_or_none(fresh),
            _int_or_none(watermark),
            tracks or [],
            {_text(u): g for u, g in zip(releases[::2], releases[1::2], strict=True)},
            {_text(p): g for p, g in zip(parties[::2], parties[1::2], strict=True)},
        )

    async def every_isrc(self, count: int = 100) -> AsyncIterator[list[str]]:
        """Every ISRC the state holds (tracks, and tracks only decided on so far), a
        SCAN page of about ``count`` buckets at a time (up to 100 tracks each), their
        fields read in one pipeline. A bucket present for the whole scan is listed once;
        tracks added meanwhile may be missed."""
        cursor: int | str | bytes = 0
        while True:
            cursor, found = await self._redis.scan(
                int(cursor), match=keys.TRACK_BUCKETS_PATTERN, count=count
            )
            buckets = [_text(k) for k in found]
            if buckets:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for key in buckets:
                        pipe.hkeys(key)
                    fields = await pipe.execute()
                yield [
                    layout.isrc_at(key, _text(f))
                    for key, of_key in zip(buckets, fields, strict=True)
                    for f in of_key
                ]
            if int(cursor) == 0:
                return

    async def gather(
        self, isrcs: Sequence[str], purpose: str, watermark_of: tuple[str, int] | None = None
    ) -> Snapshot:
        """``read``, with the candidate slots for one purpose."""
        read = await self.read(isrcs, watermark_of)
        return Snapshot(read.fresh_until_ms, read.watermark, read.views(purpose))

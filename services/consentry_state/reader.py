"""Read everything a check needs for a batch of tracks in one Redis round trip."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from consentry_domain import Slot, SlotKey, Track
from consentry_domain.purposes import ancestors
from consentry_events import Scope, TrackStatus
from consentry_state import keys
from consentry_state.codec import decode_slot
from consentry_state.scripts import GATHER, run


@dataclass(frozen=True, slots=True)
class TrackView:
    track: Track
    candidates: dict[str, list[tuple[SlotKey, Slot]]]

    @property
    def tags(self) -> tuple[str, ...]:
        """The invalidation tags an answer about this track depends on."""
        return (keys.track_tag(self.track.isrc), *map(keys.party_tag, self.track.parties))


@dataclass(frozen=True, slots=True)
class Snapshot:
    fresh_until_ms: int | None
    """The least fresh partition's "complete up to" time (epoch ms); None while the state
    is incomplete or no worker vouches for it."""
    watermark: int | None
    """The offset applied on the asked partition (a consistency token's), if asked."""
    tracks: dict[str, TrackView | None]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _int_or_none(value: bytes | str | None) -> int | None:
    return None if value is None else int(value)


def _decode_track(isrc: str, paths: tuple[str, ...], row: list[object]) -> TrackView | None:
    if not row:
        return None
    upc, status, parties_raw = (_text(v) for v in row[:3])  # type: ignore[arg-type]
    parties = tuple(parties_raw.split())
    track = Track(isrc, upc, parties, TrackStatus(status))
    candidates: dict[str, list[tuple[SlotKey, Slot]]] = {}
    works = ((Scope.PARTY, ""), (Scope.RELEASE, upc), (Scope.TRACK, isrc))
    for party, values in zip(parties, row[3:], strict=True):
        assert isinstance(values, list)
        found = candidates.setdefault(party, [])
        index = 0
        for scope, work in works:
            for path in paths:
                raw = values[index]
                index += 1
                if raw is not None:
                    found.append((SlotKey(party, scope, work, path), decode_slot(raw)))
    return TrackView(track, candidates)


class StateReader:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def gather(
        self, isrcs: Sequence[str], purpose: str, watermark_of: tuple[str, int] | None = None
    ) -> Snapshot:
        """The tracks' records and candidate slots, the least freshness, and the watermark
        of ``watermark_of`` (topic, partition) if given -- all read atomically."""
        paths = ancestors(purpose)
        mark = "" if watermark_of is None else keys.watermark_field(*watermark_of)
        args: list[str | int] = [mark, len(paths), *paths, *isrcs]
        reply = await run(self._redis, GATHER, *args, read_only=True)
        assert isinstance(reply, list)
        fresh_until, watermark, *rows = reply
        return Snapshot(
            _int_or_none(fresh_until),
            _int_or_none(watermark),
            {isrc: _decode_track(isrc, paths, row) for isrc, row in zip(isrcs, rows, strict=True)},
        )


"""Read everything a check needs for a batch of tracks in one Redis round trip."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from consentry_domain import Slot, SlotKey, Track
from consentry_domain.purposes import ancestors
from consentry_events import Scope, TrackStatus
from consentry_state import keys
from consentry_state.scripts import GATHER
from consentry_state.slotcodec import decode_slot


@dataclass(frozen=True, slots=True)
class TrackView:
    track: Track
    candidates: dict[str, list[tuple[SlotKey, Slot]]]


@dataclass(frozen=True, slots=True)
class Snapshot:
    heartbeat_ms: int | None
    watermark: int | None
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
        self, isrcs: Sequence[str], purpose: str, watermark_field: str = ""
    ) -> Snapshot:
        paths = ancestors(purpose)
        args: list[str | int] = [watermark_field, len(paths), *paths, *isrcs]
        try:
            reply = await self._redis.evalsha_ro(GATHER.sha, 0, *args)
        except NoScriptError:
            await self._redis.script_load(GATHER.source)
            reply = await self._redis.evalsha_ro(GATHER.sha, 0, *args)
        heartbeat, watermark, *rows = reply
        return Snapshot(
            _int_or_none(heartbeat),
            _int_or_none(watermark),
            {isrc: _decode_track(isrc, paths, row) for isrc, row in zip(isrcs, rows, strict=True)},
        )


async def party_slots(redis: Redis, party: str) -> dict[SlotKey, Slot]:
    """Every materialised decision slot of one party."""
    raw = await redis.hgetall(keys.party_key(party))
    return {
        keys.parse_slot_field(party, _text(field)): decode_slot(value)
        for field, value in raw.items()
    }

"""Read-only views of what Redis holds, record by record: a party's decision slots as
the checks see them (the write API's "current decisions"), and a track's record (audits
and tests comparing Redis with a replay of the log)."""

from __future__ import annotations

from redis.asyncio import Redis

from consentry_domain import Slot, SlotKey, Track
from consentry_events import TrackStatus
from consentry_state import keys
from consentry_state.codec import decode_slot


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class StoredState:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def party_slots(self, party: str) -> dict[SlotKey, Slot]:
        """Every materialised decision slot of one party."""
        raw = await self._redis.hgetall(keys.party_key(party))
        return {
            keys.parse_slot_field(party, _text(field)): decode_slot(value)
            for field, value in raw.items()
        }

    async def track(self, isrc: str) -> tuple[int, Track] | None:
        """The track's record and the catalogue offset it came from."""
        offset, upc, parties, status = await self._redis.hmget(
            keys.track_key(isrc),
            [keys.TRACK_OFFSET, keys.TRACK_UPC, keys.TRACK_PARTIES, keys.TRACK_STATUS],
        )
        if offset is None or upc is None or parties is None or status is None:
            return None
        track = Track(isrc, _text(upc), tuple(_text(parties).split()), TrackStatus(_text(status)))
        return int(offset), track

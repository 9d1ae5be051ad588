"""What the enforcer keeps in Redis: the tracks a decision reaches, the answers last
published downstream, and the decision windows that open or close later.

* a party's tracks and a release's tracks are sets kept by the apply script together
  with each track record;
* the answer last published for (track, purpose) is a field of the track's hash, written
  only after the broker acknowledged the enforcement event;
* a windowed decision's opening and closing instants are a sorted set, written by the
  apply script with the decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from consentry_domain import SlotKey, Verdict
from consentry_events import Scope
from consentry_state import keys


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class CatalogueIndex:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def tracks_of(self, key: SlotKey) -> set[str]:
        """The ISRCs a decision at ``key`` covers: the party's tracks, those of them on
        the release, or the one track if the party holds rights in it."""
        party_tracks = keys.party_tracks_key(key.party)
        if key.scope is Scope.PARTY:
            members = await self._redis.smembers(party_tracks)
        elif key.scope is Scope.RELEASE:
            members = await self._redis.sinter([party_tracks, keys.release_tracks_key(key.work)])
        else:
            member = await self._redis.sismember(party_tracks, key.work)
            members = {key.work} if member else set()
        return {_text(m) for m in members}


class PublishedAnswers:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def get(self, isrcs: Sequence[str], purpose: str) -> dict[str, Verdict | None]:
        """The answer last published (or baselined) for each track; None if none yet."""
        field = keys.published_field(purpose)
        async with self._redis.pipeline(transaction=False) as pipe:
            for isrc in isrcs:
                pipe.hget(keys.track_key(isrc), field)
            values = await pipe.execute()
        return {
            isrc: None if v is None else Verdict(_text(v))
            for isrc, v in zip(isrcs, values, strict=True)
        }

    async def record(self, purpose: str, answers: Mapping[str, Verdict]) -> None:
        if not answers:
            return
        field = keys.published_field(purpose)
        async with self._redis.pipeline(transaction=False) as pipe:
            for isrc, verdict in answers.items():
                pipe.hset(keys.track_key(isrc), field, verdict.value)
            await pipe.execute()


@dataclass(frozen=True, slots=True)
class DueWindow:
    """A decision's window opened or closed at ``at_ms``."""

    key: SlotKey
    at_ms: int
    member: str


class DecisionWindows:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def due(self, now_ms: int) -> list[DueWindow]:
        """Windows that opened or closed by ``now_ms`` and were not yet handled."""
        found = []
        for raw in await self._redis.zrangebyscore(keys.DUE, "-inf", now_ms):
            assert isinstance(raw, bytes | str)  # members only: no scores were asked for
            member = _text(raw)
            at, party, field = member.split("|", 2)
            found.append(DueWindow(keys.parse_slot_field(party, field), int(at), member))
        return found

    async def handled(self, windows: Sequence[DueWindow]) -> None:
        if windows:
            await self._redis.zrem(keys.DUE, *(w.member for w in windows))

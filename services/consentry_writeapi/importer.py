"""A catalogue import: many track records validated one by one, compared with what the
check side holds, and the changed ones published together with acks=all.

A track that differs from the state is written straight away. One that looks unchanged
is only skipped after the state has caught up with the catalogue log as it ended when
the import arrived (so a newer record still in flight is never mistaken for the old
one); if that cannot be had within ``compare_wait_s``, it is written again -- a track
record is an upsert, so that costs events, never correctness.

Titles (for people: the portal) travel with the tracks written; they are not compared,
so a title changed on a track otherwise unchanged needs ``POST /v1/tracks``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka.errors import KafkaError
from pydantic import TypeAdapter, ValidationError
from redis.exceptions import RedisError

from consentry_domain import Track
from consentry_domain.catalogue_import import ImportPlan, Refusal, plan_import
from consentry_domain.state_types import facts_of
from consentry_events import CATALOGUE, TrackChanged
from consentry_events.tokens import Token
from consentry_kafka import LogEnds
from consentry_state import LogProgress, StoredState
from consentry_writeapi.recorder import CatalogueLog
from consentry_writeapi.schemas import TrackRequest

log = logging.getLogger(__name__)
_TRACK = TypeAdapter(TrackRequest)


@dataclass(frozen=True, slots=True)
class Imported:
    plan: ImportPlan
    tokens: tuple[str, ...]
    """Per partition written, the consistency token of its last record."""
    compared: bool
    """Whether unchanged tracks could be recognised (see the module's docstring)."""


def track_of(request: TrackRequest) -> Track:
    """A track as the state holds it, to compare with (``plan_import``)."""
    facts = facts_of(request.shares, request.ai_credits)
    parties = tuple(request.parties)
    return Track(request.isrc, request.upc, parties, request.status, request.contains_ai, facts)


def track_event(request: TrackRequest, actor: str, at: datetime) -> TrackChanged:
    """The catalogue record a request registers."""
    return TrackChanged(
        isrc=request.isrc,
        upc=request.upc,
        parties=tuple(request.parties),
        status=request.status,
        recorded_at=at,
        actor=actor,
        title=request.title,
        release_title=request.release_title,
        contains_ai=request.contains_ai,
        ai_credits=tuple(request.ai_credits),
        shares=tuple(request.shares),
        source=request.source,
    )


def validated(index: int, item: Mapping[str, Any]) -> TrackRequest | Refusal:
    """An item as a track request, or the refusal naming its first wrong field."""
    try:
        return _TRACK.validate_python(item)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in error["loc"]) or "(item)"
        return Refusal(index, field, str(error["msg"]))


class CatalogueImport:
    def __init__(
        self,
        catalogue: CatalogueLog,
        log_ends: LogEnds,
        progress: LogProgress,
        stored: StoredState,
        compare_wait_s: float,
    ) -> None:
        self._catalogue = catalogue
        self._log_ends = log_ends
        self._progress = progress
        self._stored = stored
        self._compare_wait_s = compare_wait_s

    async def run(self, items: Sequence[Mapping[str, Any]], actor: str) -> Imported:
        """Raises ``PublishError`` when the broker did not take every changed record (some
        may be written; importing again is safe)."""
        requests = [validated(i, item) for i, item in enumerate(items)]
        checked = [r if isinstance(r, Refusal) else track_of(r) for r in requests]
        isrcs = [t.isrc for t in checked if isinstance(t, Track)]
        asked = {r.isrc: r for r in reversed(requests) if isinstance(r, TrackRequest)}
        try:
            now_held = await self._stored.tracks(isrcs)
        except (RedisError, OSError) as exc:
            log.warning("import: cannot read the state (%r); writing every track", exc)
            now_held = {}
        # A track that differs from the state now is written at once; only one that looks
        # unchanged waits for the state to catch up before it is skipped.
        candidates = plan_import(checked, now_held).unchanged
        held = await self._held(candidates)
        plan = plan_import(checked, held)
        now = datetime.now(UTC)
        tracks = [track_event(asked[t.isrc], actor, now) for t in plan.write]
        receipts = await self._catalogue.register_many(tracks)
        last: dict[int, int] = {}
        for r in receipts:
            last[r.partition] = max(last.get(r.partition, -1), r.offset)
        tokens = tuple(str(Token(CATALOGUE.name, p, o)) for p, o in sorted(last.items()))
        return Imported(plan, tokens, compared=held is not None or not candidates)

    async def _held(self, isrcs: Sequence[str]) -> dict[str, Track] | None:
        """The tracks as held once the state caught up with the log's end; None if it did
        not in time or could not be asked."""
        if not isrcs:
            return {}
        try:
            ends = await self._log_ends.of_topic(CATALOGUE.name)
            wanted = {(tp.topic, tp.partition): end - 1 for tp, end in ends.items() if end > 0}
            if not await self._progress.wait_applied(wanted, self._compare_wait_s):
                log.info("import: state behind the catalogue log; writing every track")
                return None
            return await self._stored.tracks(isrcs)
        except (KafkaError, RedisError, TimeoutError, OSError) as exc:
            log.warning("import: cannot compare with the state (%r); writing every track", exc)
            return None

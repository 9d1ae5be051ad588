"""``POST /v1/tracks``: the catalogue feed adds, updates or retires a track."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import Response

from consentry_events import TrackChanged, encode
from consentry_http import Caller
from consentry_writeapi.authorise import may_register_tracks
from consentry_writeapi.deps import Catalogue, IdempotencyKey, KeyRecords, attempt
from consentry_writeapi.routes.answers import WRITE_RESPONSES, written
from consentry_writeapi.schemas import Accepted, TrackRequest

router = APIRouter(tags=["catalogue"])


@router.post("/v1/tracks", status_code=202, response_model=Accepted, responses=WRITE_RESPONSES)
async def register_track(
    body: TrackRequest,
    principal: Caller,
    catalogue: Catalogue,
    records: KeyRecords,
    key: IdempotencyKey = None,
) -> Response:
    """Add, update or retire a track and its rights holders (the whole record).

    Catalogue and admin tokens only. A track record is an upsert, so a retry after
    an unknown outcome writes it again to the same effect."""
    may_register_tracks(principal)
    event = TrackChanged(
        isrc=body.isrc,
        upc=body.upc,
        parties=tuple(body.parties),
        status=body.status,
        recorded_at=datetime.now(UTC),
        actor=principal.subject,
    )
    handle = attempt(records, principal, key, "tracks", body)
    return written(await catalogue.register(event.isrc, encode(event), handle))

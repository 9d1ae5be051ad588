"""``POST /v1/tracks``: the catalogue feed adds, updates or retires a track;
``POST /v1/tracks/import``: many at once."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import Response

from consentry_http import Caller, responses
from consentry_http.inputs import body_rules, shares_of
from consentry_writeapi.authorise import may_register_tracks
from consentry_writeapi.deps import Catalogue, IdempotencyKey, Importer, KeyRecords, attempt
from consentry_writeapi.importer import Imported, track_event
from consentry_writeapi.schemas import (
    Accepted,
    ImportRefusal,
    ImportResult,
    TrackImport,
    TrackRequest,
)
from consentry_writeapi.written import WRITE_RESPONSES, written

router = APIRouter(tags=["catalogue"])


@router.post(
    "/v1/tracks",
    status_code=202,
    response_model=Accepted,
    responses=WRITE_RESPONSES,
    openapi_extra=body_rules(shares_of("shares", "parties")),
)
async def register_track(
    body: TrackRequest,
    principal: Caller,
    catalogue: Catalogue,
    records: KeyRecords,
    key: IdempotencyKey,
) -> Response:
    """Add, update or retire a track and its rights holders (the whole record).

    Catalogue and admin tokens only. A track record is an upsert, so a retry after
    an unknown outcome writes it again to the same effect."""
    may_register_tracks(principal)
    event = track_event(body, principal.subject, datetime.now(UTC))
    handle = attempt(records, principal, key, "tracks", body)
    return written(await catalogue.register(event, handle))


IMPORT_MAX_BYTES = 16 * 1024 * 1024
"""An import's body: 10,000 records with room for long party lists (the app's body limit
for this path; every other route keeps ``max_body_bytes``)."""


@router.post(
    "/v1/tracks/import",
    response_model=ImportResult,
    responses=responses(400, 401, 403, 413, 422, 503),
)
async def import_tracks(body: TrackImport, principal: Caller, importer: Importer) -> ImportResult:
    """Add, update or retire up to 10,000 tracks in one request.

    Each item is validated on its own: a refused item (listed with its index, field and
    reason) changes nothing, and the valid rest are written. A track already held exactly
    as sent is left alone (`unchanged`), so importing the same file again writes
    nothing. On a 503 some records may be written: import again, it is safe.
    Catalogue and admin tokens only."""
    may_register_tracks(principal)
    return import_result(await importer.run(body.tracks, principal.subject))


def import_result(done: Imported) -> ImportResult:
    """What an import did, as the API answers it (the ERN route's too)."""
    plan = done.plan
    return ImportResult(
        written=len(plan.write),
        unchanged=len(plan.unchanged),
        refused=[
            ImportRefusal(index=r.index, field=r.field, reason=r.reason) for r in plan.refused
        ],
        tokens=list(done.tokens),
        compared=done.compared,
    )

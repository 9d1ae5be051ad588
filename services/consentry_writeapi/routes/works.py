"""``GET /v1/parties/{party}/works``: the releases and tracks a party holds rights in,
paged by release, searchable by ISRC, UPC or title -- what the portal's "My works"
shows.

Read from the enforcer's catalogue index (which releases a party holds, which tracks are
on each, and titles), then each track checked against the catalogue as it stands now:
the index only grows, so a track the party no longer holds is left out here.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from consentry_events import TrackStatus
from consentry_http import responses
from consentry_http.inputs import single_values
from consentry_writeapi.deps import Index, Stored
from consentry_writeapi.routes.parties import Reader
from consentry_writeapi.schemas import ReleaseOut, TrackOut, WorksOut, WorksQuery

router = APIRouter(tags=["parties"], responses=responses(401, 403, 422, 503))

_ISRC = re.compile(r"[A-Z]{2}[A-Z0-9]{3}[0-9]{7}")
_UPC = re.compile(r"[0-9]{12,14}")


async def _once_each(request: Request) -> None:
    """A query parameter given twice is refused: which one would count is a guess."""
    single_values(request.query_params.multi_items())


@router.get(
    "/v1/parties/{party}/works",
    response_model=WorksOut,
    dependencies=[Depends(_once_each)],
)
async def works(
    party: str, _: Reader, index: Index, stored: Stored, query: Annotated[WorksQuery, Query()]
) -> WorksOut:
    """The party's releases (in UPC order) with their tracks and titles; with ``q``, only
    the releases and tracks that match."""
    q, offset, limit = query.q, query.offset, query.limit
    releases = (await index.releases_of([party]))[0]
    wanted: dict[str, list[str]] | None = None
    if q:
        text = q.strip()
        if _ISRC.fullmatch(text.upper()):
            on = await index.tracks_on(releases)
            wanted = {u: [text.upper()] for u, isrcs in on.items() if text.upper() in isrcs}
        elif _UPC.fullmatch(text):
            wanted = {text: []} if text in releases else {}
        else:
            on = await index.tracks_on(releases)
            isrcs = [i for u in releases for i in on[u]]
            titles = await index.titles(isrcs, releases)
            needle = text.casefold()
            wanted = {}
            for upc in releases:
                if needle in titles.get(upc, "").casefold():
                    wanted[upc] = []
                    continue
                hits = [i for i in on[upc] if needle in titles.get(i, "").casefold()]
                if hits:
                    wanted[upc] = hits
        releases = [u for u in releases if u in wanted]
    page = releases[offset : offset + limit]
    on = await index.tracks_on(page)
    listed = {u: (wanted[u] if wanted and wanted.get(u) else on[u]) for u in page}
    every = [i for u in page for i in listed[u]]
    held = await stored.disclosures(every)
    titles = await index.titles(every, page)
    out = []
    for upc in page:
        tracks = []
        for isrc in listed[upc]:
            track, stated = held.get(isrc, (None, {}))
            if track is None or party not in track.parties or track.upc != upc:
                continue
            tracks.append(
                TrackOut(
                    isrc=isrc,
                    title=titles.get(isrc),
                    retired=track.status is TrackStatus.RETIRED,
                    delivered=track.disclosure,
                    stated=stated.get(party),
                )
            )
        if tracks:
            out.append(ReleaseOut(upc=upc, title=titles.get(upc), tracks=tracks))
    following = offset + limit
    return WorksOut(
        party=party,
        releases_total=len(releases),
        offset=offset,
        next_offset=following if following < len(releases) else None,
        releases=out,
    )

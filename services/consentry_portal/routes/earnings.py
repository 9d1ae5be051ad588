"""The "AI use and earnings" page (``/earnings``): what AI features used of the party's
works per purpose and month (a chart and its table), the uses made while its consent
denied them, and its revenue statements to download -- all from the write API as the
party, so it sees its own and nothing else."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from consentry_domain.settlement import POOL_NAME
from consentry_portal.chart import HEIGHT, WIDTH, panels
from consentry_portal.client import Reply
from consentry_portal.deps import Api, PagesOf, Problem, Session, checked

router = APIRouter()
MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


@router.get("/earnings", response_class=HTMLResponse)
async def earnings(request: Request, session: Session, api: Api, pages: PagesOf) -> Response:
    me = session[1]
    base = f"/v1/parties/{me.party}"
    usage, violations, statements = await asyncio.gather(
        api.write("GET", f"{base}/usage", me.token),
        api.write("GET", f"{base}/violations", me.token),
        api.write("GET", f"{base}/statements", me.token),
    )
    lines = checked(usage, "your usage")["lines"]
    return pages.render(
        request,
        "earnings.html",
        party=me.party,
        csrf=me.csrf,
        lines=lines,
        panels=panels(lines),
        width=WIDTH,
        height=HEIGHT,
        violations=checked(violations, "your violations")["violations"],
        statements=list(reversed(checked(statements, "your statements")["statements"])),
    )


@router.get("/earnings/statements/{period}/{pool}.{form}")
async def statement_file(
    session: Session,
    api: Api,
    period: Annotated[str, Path(pattern=MONTH)],
    pool: Annotated[str, Path(pattern=POOL_NAME.pattern)],
    form: Literal["json", "csv"],
) -> Response:
    """The statement as the write API keeps it, byte for byte, as a download."""
    me = session[1]
    path = f"/v1/parties/{me.party}/statements/{period}/{pool}"
    found = await api.download(path, me.token, {"format": form})
    if found.status_code == 404:
        raise Problem(404, "Not found", f"No {pool} statement for {period} was published for you.")
    if found.status_code != 200:
        checked(Reply(found.status_code, _json(found)), "the statement")
    return Response(
        found.content,
        media_type=found.headers.get("content-type", "application/octet-stream"),
        headers={"Content-Disposition": f'attachment; filename="{period}-{pool}.{form}"'},
    )

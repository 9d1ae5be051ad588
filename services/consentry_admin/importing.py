"""``consentry-admin import``'s work: a catalogue file sent to the write API in batches,
each refusal mapped back to its line, the consistency tokens merged."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel

from consentry_admin.catalogue_file import Item, LineError, read_items


class ImportRefused(Exception):
    """The write API refused a whole batch (authorisation, or it is unavailable)."""


class _Refusal(BaseModel):
    index: int
    field: str
    reason: str


class _Result(BaseModel):
    """The part of the write API's ``ImportResult`` used here."""

    written: int
    unchanged: int
    refused: list[_Refusal]
    tokens: list[str]


@dataclass(slots=True)
class Summary:
    written: int = 0
    unchanged: int = 0
    refused: int = 0
    tokens: list[str] = field(default_factory=list)
    """Per log partition, the token of the last record written."""


def _batches(path: Path, size: int) -> Iterator[tuple[list[Item], list[LineError], int]]:
    """(records, unreadable lines, the last line number) per ``size`` entries."""
    items: list[Item] = []
    errors: list[LineError] = []
    line = 0
    for entry in read_items(path):
        line = entry.line
        if isinstance(entry, Item):
            items.append(entry)
        else:
            errors.append(entry)
        if len(items) + len(errors) >= size:
            yield items, errors, line
            items, errors = [], []
    if items or errors:
        yield items, errors, line


def send_tracks(client: httpx.Client, records: list[dict[str, Any]]) -> _Result:
    """One bulk import request; ``ImportRefused`` when the write API refuses it whole."""
    response = client.post("/v1/tracks/import", json={"tracks": records})
    if response.status_code != 200:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        if isinstance(detail, dict):  # the one error body: {"reason", "message"}
            detail = detail.get("message", detail)
        again = " Importing the file again is safe." if response.status_code >= 500 else ""
        raise ImportRefused(f"the write API answered {response.status_code}: {detail}.{again}")
    return _Result.model_validate_json(response.content)


def import_file(
    path: Path,
    client: httpx.Client,
    batch: int,
    on_refused: Callable[[LineError], object],
    on_progress: Callable[[int], object],
) -> Summary:
    """Send the file's records; report each refused line, and lines done, as it goes."""
    summary = Summary()
    last: dict[tuple[str, str], int] = {}
    done = 0
    for items, refused, upto in _batches(path, batch):
        if items:
            result = send_tracks(client, [i.record for i in items])
            summary.written += result.written
            summary.unchanged += result.unchanged
            refused += [LineError(items[r.index].line, r.field, r.reason) for r in result.refused]
            for token in result.tokens:
                log, partition, offset = token.rsplit(":", 2)
                last[log, partition] = max(last.get((log, partition), -1), int(offset))
        for error in sorted(refused, key=lambda e: e.line):
            on_refused(error)
        summary.refused += len(refused)
        on_progress(upto - done)
        done = upto
    summary.tokens = [f"{log}:{p}:{offset}" for (log, p), offset in sorted(last.items())]
    return summary

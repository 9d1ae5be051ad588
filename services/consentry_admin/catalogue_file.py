"""Catalogue files for ``consentry-admin import``: JSON Lines or CSV, read line by line.

* ``.jsonl``: one track record per line, as ``POST /v1/tracks`` takes it
  (``{"isrc": ..., "upc": ..., "parties": [...], "status": "active"}``); blank lines are
  skipped.
* ``.csv``: a header naming the columns ``isrc``, ``upc``, ``parties`` and optionally
  ``status``, ``title`` and ``release_title``; ``parties`` separated by ``;``
  (``artist:nina-vale;label:aurora``).

A line that cannot be read as a record (bad JSON, a missing column) is reported with its
number here; everything else is validated by the write API, whose refusals are mapped
back to line numbers.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

COLUMNS = ("isrc", "upc", "parties")


@dataclass(frozen=True, slots=True)
class Item:
    line: int
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


class CatalogueFileError(Exception):
    """The file as a whole cannot be read (unknown format, no usable header)."""


def read_items(path: Path) -> Iterator[Item | LineError]:
    """Each record of the file, or the error of a line that is not one, in file order."""
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise CatalogueFileError(f"{path.name}: expected a .jsonl or .csv file")
    with path.open(encoding="utf-8", newline="") as stream:
        yield from (_jsonl(stream) if suffix == ".jsonl" else _csv(stream, path.name))


def _jsonl(stream: TextIO) -> Iterator[Item | LineError]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield LineError(number, "(line)", f"not JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(record, dict):
            yield LineError(number, "(line)", "expected a JSON object")
            continue
        yield Item(number, record)


def _csv(stream: TextIO, name: str) -> Iterator[Item | LineError]:
    rows = csv.reader(stream)
    header = [h.strip() for h in next(rows, [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise CatalogueFileError(
            f"{name}: the header (line 1) lacks the column(s) {', '.join(missing)}; "
            f"expected {', '.join(COLUMNS)}[, status, title, release_title]"
        )
    for row in rows:
        number = rows.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield LineError(number, "(line)", f"{len(row)} columns, the header has {len(header)}")
            continue
        cells = dict(zip(header, (c.strip() for c in row), strict=True))
        record: dict[str, Any] = {
            "isrc": cells["isrc"],
            "upc": cells["upc"],
            "parties": [p.strip() for p in cells["parties"].split(";") if p.strip()],
        }
        for optional in ("status", "title", "release_title"):
            if cells.get(optional):
                record[optional] = cells[optional]
        yield Item(number, record)

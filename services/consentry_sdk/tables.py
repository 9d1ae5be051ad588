"""Data sets as data engineers hold them: an Arrow table (a Parquet manifest, or a Polars
frame through ``to_arrow()``) filtered by consent, every other column kept and the rows
in their order, the consent token in the table's metadata.

pyarrow is the ``parquet`` extra of the distribution (``pip install consentry[parquet]``):
imported here only, when a table is filtered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from consentry_sdk.datasets import DataSets

TOKEN_KEY = b"consentry.consent_token"
"""The table metadata key of the consent token: follow the change feed from it."""
PURPOSE_KEY = b"consentry.purpose"
FRESH_KEY = b"consentry.fresh_until_ms"
_ISRC = re.compile(r"[A-Z]{2}[A-Z0-9]{3}[0-9]{7}")


@dataclass(frozen=True, slots=True)
class Filtered:
    table: Any
    """The rows allowed (a ``pyarrow.Table``), the consent token in its metadata."""
    rows: int
    """Rows looked at."""
    malformed: int
    """Rows whose value is not an ISRC at all (null, not text, or not the ISRC shape):
    never allowed, and counted apart from the known tracks the consent denies."""
    token: str | None


async def filter_table(sets: DataSets, table: Any, column: str, purpose: str) -> Filtered:
    """``table``'s rows whose ``column`` names a track allowed for ``purpose``.
    Unknown, retired and malformed ISRCs are not allowed; raises ``DataSetError``
    (unverifiable, unknown purpose) rather than answer, and ``KeyError`` for a missing
    column."""
    import pyarrow as pa

    if column not in table.column_names:
        raise KeyError(f"the table has no column {column!r} (it has {table.column_names})")
    values = table.column(column).to_pylist()
    isrcs = [v for v in values if isinstance(v, str) and _ISRC.fullmatch(v)]
    malformed = len(values) - len(isrcs)
    isrcs = list(dict.fromkeys(isrcs))  # a track on many rows (clips, stems) is read once
    allowed: set[str] = set()
    token: str | None = None
    fresh_until_ms = 0
    async for page in sets.filter(isrcs, purpose):
        allowed.update(page.isrcs)
        token = None if page.cursor is None else page.cursor.encode()
        fresh_until_ms = page.fresh_until_ms
    mask = pa.array([isinstance(v, str) and v in allowed for v in values], type=pa.bool_())
    metadata = {
        **(table.schema.metadata or {}),
        PURPOSE_KEY: purpose.encode(),
        FRESH_KEY: str(fresh_until_ms).encode(),
    }
    if token is not None:
        metadata[TOKEN_KEY] = token.encode()
    kept = table.filter(mask).replace_schema_metadata(metadata)
    return Filtered(kept, len(values), malformed, token)

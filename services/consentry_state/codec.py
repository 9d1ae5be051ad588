"""Reading the JSON form of a slot that the apply script writes to Redis."""

from __future__ import annotations

from typing import Any

import orjson

from consentry_domain import Entry, Slot
from consentry_events import Choice


def decode_slot(raw: bytes | str) -> Slot:
    data: dict[str, Any] = orjson.loads(raw)
    entries = data["e"] or []  # Lua's cjson writes an empty list as {}
    return Slot(
        int(data["f"]),
        tuple(
            Entry(
                int(o),
                Choice(choice),
                str(decision_id),
                None if start is None else int(start),
                None if end is None else int(end),
            )
            for o, choice, decision_id, start, end in entries
        ),
    )

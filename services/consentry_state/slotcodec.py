"""The JSON form of a slot in Redis, shared by the Lua scripts and Python."""

from __future__ import annotations

from typing import Any

import orjson

from consentry_domain import Entry, Slot
from consentry_events import Choice


def encode_slot(slot: Slot) -> bytes:
    return orjson.dumps(
        {
            "f": slot.floor,
            "e": [
                [e.offset, e.choice.value, e.decision_id, e.effective_from_ms, e.expires_at_ms]
                for e in slot.entries
            ],
        }
    )


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

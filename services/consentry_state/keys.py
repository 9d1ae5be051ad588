"""Key and field names of the Redis layout (see the package docstring)."""

from __future__ import annotations

from consentry_domain import SlotKey
from consentry_events import Scope

WATERMARKS = "cs:wm"
HEARTBEAT = "cs:hb"

SCOPE_CODES = {Scope.PARTY: "p", Scope.RELEASE: "r", Scope.TRACK: "t"}
SCOPES_BY_CODE = {code: scope for scope, code in SCOPE_CODES.items()}


def party_key(party: str) -> str:
    return f"cs:party:{party}"


def track_key(isrc: str) -> str:
    return f"cs:track:{isrc}"


def slot_field(key: SlotKey) -> str:
    return f"{SCOPE_CODES[key.scope]}|{key.work}|{key.purpose}"


def watermark_field(topic: str, partition: int) -> str:
    return f"{topic}:{partition}"

"""Key and field names of the Redis layout (see the package docstring)."""

from __future__ import annotations

from consentry_domain import SlotKey
from consentry_events import Scope

WATERMARKS = "cs:wm"
DUE = "cs:due"
READY = "cs:ready"
"""Present while the state holds the whole log; removed with everything by a flush."""
EPOCH = "cs:epoch"
"""The current rebuild's id, shared by every worker of the group."""
INVALIDATIONS = "cs:inv"
"""Pub/sub channel: space-separated ``p:<party>`` / ``t:<isrc>`` tags of what a batch changed."""
FRESHNESS = "cs:fresh"
"""Hash ``<topic>:<partition>`` -> ms up to which that partition's state is complete."""

SCOPE_CODES = {Scope.PARTY: "p", Scope.RELEASE: "r", Scope.TRACK: "t"}
SCOPES_BY_CODE = {code: scope for scope, code in SCOPE_CODES.items()}


def party_key(party: str) -> str:
    return f"cs:party:{party}"


def track_key(isrc: str) -> str:
    return f"cs:track:{isrc}"


def head_key(party: str) -> str:
    """The party's chain head: ``o`` offset, ``h`` record hash, ``d`` event id."""
    return f"cs:head:{party}"


def delegations_key(party: str) -> str:
    """The party's delegations: field ``<delegate>|<purpose>`` -> ``<offset>|grant|revoke``."""
    return f"cs:dg:{party}"


def delegation_field(delegate: str, purpose: str) -> str:
    return f"{delegate}|{purpose}"


def party_tracks_key(party: str) -> str:
    """Set of the ISRCs the party holds rights in (kept by the apply script)."""
    return f"cs:pt:{party}"


def release_tracks_key(upc: str) -> str:
    """Set of the ISRCs on the release (kept by the apply script)."""
    return f"cs:rt:{upc}"


def published_field(purpose: str) -> str:
    """Field of the track hash: the answer last published on the enforcement topic."""
    return f"a:{purpose}"


def slot_field(key: SlotKey) -> str:
    return f"{SCOPE_CODES[key.scope]}|{key.work}|{key.purpose}"


def parse_slot_field(party: str, field: str) -> SlotKey:
    code, work, purpose = field.split("|", 2)
    return SlotKey(party, SCOPES_BY_CODE[code], work, purpose)


def watermark_field(topic: str, partition: int) -> str:
    return f"{topic}:{partition}"

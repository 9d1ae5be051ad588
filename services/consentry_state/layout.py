"""Layout 5 of the consent state: where each record lives, and how it is written.

Every key name comes from ``keys``; this module decides the buckets and the text of the
values, and ``lua/codec.lua`` is its twin on the Redis side (a contract test replays
random histories through both). Laid out for the check: a batch of tracks reads one
field per track (its record *and* its track-scoped decisions), then one ``HMGET`` for
all its releases' decisions and one for all its parties' -- each distinct one once.

* a **track** lives in the bucket ``keys.track_bucket(isrc[:10])``, field ``isrc[10:]``:
  one ISRC registrant-year's hundred designations share a bucket, as do a release's
  tracks; the value is its record, then the slot lines of its track-scoped decisions
  (any party's). Buckets stay listpack-encoded (``LISTPACK_SETTINGS``), so a track costs
  its bytes and a few more, not a key of its own; its rights holders' AI disclosure
  statements are slot lines of its own group too, under the pseudo-purpose ``!ai``
  (no purpose starts with ``!``): merged by offset like decisions, read with the track;
* a **release's decisions** (every party's release-scoped slots) in the hash
  ``keys.RELEASE_DECISIONS``, field the UPC;
* a **party's own group** -- its party-wide slots only, what every check of its tracks
  reads -- in ``keys.PARTY_DECISIONS``, field the party;
* its **chain head** in ``keys.head_bucket(h)`` (``h``: the first ``PARTY_HASH_DIGITS``
  hex digits of the party's SHA-1; off the check path, so bucketed for memory), field
  the party, followed by marker lines ``@r|<upc>`` / ``@t|<isrc>`` naming where its
  scoped decisions are (the write API's "current decisions"; no check reads them, so a
  party with only scoped decisions has no entry on the check path at all);
  ``<party>|u``: a write's intent;
* its **delegations** in ``keys.delegations_key(party)`` and, seen from each delegate, in
  ``keys.delegators_key(delegate)`` (new in layout 4: a label lists what it decided for
  its artists without scanning; a state in layout 3 is rebuilt, which fills it). Layout 5
  adds the AI disclosure to a track's record and its holders' statements to its group (a
  state in layout 4 is rebuilt).

Values:

* track: ``<offset>|<upc>|<a|r>|<party> <party> ...|<A|P|N>|<facts>`` (``a`` active,
  ``r`` retired; the delivery's AI disclosure: all, partly, none, empty when not
  disclosed; ``facts``: a digest of its shares and AI credits, for imports to compare),
  an empty first line while its decisions have arrived before its record; then slot
  lines;
* slot group: lines ``<party>|<purpose>|<floor>|<entries>`` (party empty in a party's
  own group), entries ``;``-separated ``<offset>,<a|d>,<id>,<from_ms>,<until_ms>``
  ascending by offset (from/until empty when absent), ``<id>`` the decision's UUID in 22
  characters of base64url; a statement's entry ``<offset>,<A|P|N>,<id>,,``;
* head: ``<offset>|<sha256 in base64url>`` (empty before the party's first event is
  applied), then ``\n``-separated marker lines.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Collection
from dataclasses import dataclass

from consentry_domain import Entry, Slot, SlotKey, Track
from consentry_events import Choice, Scope, TrackStatus
from consentry_state import keys

VERSION = "5"
"""Written with the ready mark; a worker that finds another rebuilds the state."""

LISTPACK_SETTINGS = ("--hash-max-listpack-entries", "256", "--hash-max-listpack-value", "512")
"""redis-server options the buckets are sized for: a bucket of up to 256 records of up to
512 bytes stays a listpack (a few bytes per record, not a hash table's ~60)."""

PARTY_HASH_DIGITS = 3
"""Chain-head buckets: 4,096 (a few parties each at 10,000 parties, listpacks up to
~1,000,000)."""

Place = tuple[str, str]
"""(key, field)"""

_STATUS = {TrackStatus.ACTIVE: "a", TrackStatus.RETIRED: "r"}
_STATUS_BY_CODE = {code: status for status, code in _STATUS.items()}
_CHOICE = {Choice.ALLOW: "a", Choice.DENY: "d"}
_CHOICE_BY_CODE = {code: choice for choice, code in _CHOICE.items()}
_LEVEL = {"all": "A", "partly": "P", "none": "N"}
_LEVEL_BY_CODE = {code: level for level, code in _LEVEL.items()}
STATEMENTS = "!ai"
"""The pseudo-purpose of a track's disclosure statements in its own group."""


def party_hash(party: str) -> str:
    return hashlib.sha1(party.encode(), usedforsecurity=False).hexdigest()[:PARTY_HASH_DIGITS]


def track_place(isrc: str) -> Place:
    return keys.track_bucket(isrc[:10]), isrc[10:]


def isrc_at(key: str, field: str) -> str:
    """The ISRC whose ``track_place`` is (key, field)."""
    return keys.track_bucket_prefix(key) + field


def release_decisions_place(upc: str) -> Place:
    return keys.RELEASE_DECISIONS, upc


def party_decisions_place(party: str) -> Place:
    return keys.PARTY_DECISIONS, party


def head_place(party: str) -> Place:
    return keys.head_bucket(party_hash(party)), party


def intent_field(party: str) -> str:
    return f"{party}|u"


def group_place(key: SlotKey) -> Place:
    """Where the slot's group lives: with the party, the release or the track (in the
    track's own value, after its record)."""
    if key.scope is Scope.PARTY:
        return party_decisions_place(key.party)
    if key.scope is Scope.RELEASE:
        return release_decisions_place(key.work)
    return track_place(key.work)


def marker(key: SlotKey) -> str:
    """The line after the party's head that says where a scoped slot of it is."""
    if key.scope is Scope.PARTY:
        return ""
    return f"@{'r' if key.scope is Scope.RELEASE else 't'}|{key.work}"


def short_id(value: uuid.UUID | str) -> str:
    """A UUID in 22 characters (base64url, no padding)."""
    raw = value.bytes if isinstance(value, uuid.UUID) else uuid.UUID(value).bytes
    return base64.urlsafe_b64encode(raw).decode()[:22]


def long_id(short: str) -> str:
    return str(uuid.UUID(bytes=base64.urlsafe_b64decode(short + "==")))


def short_digest(hex_digest: str) -> str:
    return base64.urlsafe_b64encode(bytes.fromhex(hex_digest)).decode().rstrip("=")


def long_digest(short: str) -> str:
    return base64.urlsafe_b64decode(short + "=" * (-len(short) % 4)).hex()


def status_code(status: TrackStatus) -> str:
    return _STATUS[status]


def choice_code(choice: Choice) -> str:
    """``a``, ``d`` -- or ``w`` for a withdrawal, which the merge turns into a floor."""
    return _CHOICE.get(choice, "w")


def record_tail(level: str | None, facts: str) -> str:
    """A track record's disclosure (``A``, ``P``, ``N``, empty when none) and facts."""
    return ("" if level is None else _LEVEL[level]) + "|" + facts


def statement_code(level: str | None) -> str:
    """A statement's entry choice: its level, or ``w`` when it withdraws the statement."""
    return "w" if level is None else _LEVEL[level]


def split_track(value: bytes | str) -> tuple[str, str]:
    """A track's value -> (its record line, its track-scoped slot lines)."""
    text = value.decode() if isinstance(value, bytes) else value
    record, _, slots = text.partition("\n")
    return record, slots


def decode_track(isrc: str, record: str) -> tuple[int, Track] | None:
    """A track's record line; None while only its decisions have arrived."""
    if not record:
        return None
    offset, upc, status, parties, level, facts = record.split("|", 5)
    disclosure = _LEVEL_BY_CODE.get(level)
    track = Track(isrc, upc, tuple(parties.split()), _STATUS_BY_CODE[status], disclosure, facts)
    return int(offset), track


def statements(track_slots: str) -> dict[str, str]:
    """Each rights holder's standing disclosure statement in a track's own group (a
    withdrawn one leaves no entry): party -> ``all`` / ``partly`` / ``none``."""
    found: dict[str, str] = {}
    if f"|{STATEMENTS}|" not in track_slots:
        return found
    for line in track_slots.split("\n"):
        party, purpose, _, entries = line.split("|", 3)
        if purpose == STATEMENTS and entries:
            found[party] = _LEVEL_BY_CODE[entries.split(",", 2)[1]]
    return found


@dataclass(frozen=True, slots=True)
class GroupSlot:
    party: str
    """Empty in a party's own group (it is the party)."""
    purpose: str
    slot: Slot


def _entry(text: str) -> Entry:
    offset, choice, short, start, end = text.split(",")
    return Entry(
        int(offset),
        _CHOICE_BY_CODE[choice],
        long_id(short),
        int(start) if start else None,
        int(end) if end else None,
    )


def decode_group(value: bytes | str, purposes: Collection[str] | None = None) -> list[GroupSlot]:
    """A group's slots (only those for ``purposes``, if given)."""
    text = value.decode() if isinstance(value, bytes) else value
    slots: list[GroupSlot] = []
    if not text:
        return slots
    for line in text.split("\n"):
        party, purpose, floor, entries = line.split("|", 3)
        if (purposes is not None and purpose not in purposes) or purpose == STATEMENTS:
            continue
        parsed = tuple(_entry(e) for e in entries.split(";")) if entries else ()
        slots.append(GroupSlot(party, purpose, Slot(int(floor), parsed)))
    return slots


def head_of(value: bytes | str) -> tuple[int, str] | None:
    """(offset, hex digest) of a head value; None before the party's first event."""
    text = value.decode() if isinstance(value, bytes) else value
    line = text.partition("\n")[0]
    if not line:
        return None
    offset, digest = line.split("|")
    return int(offset), long_digest(digest)


def works_of(head_value: bytes | str) -> list[tuple[Scope, str]]:
    """The releases and tracks a party's scoped decisions are about, from its head."""
    text = head_value.decode() if isinstance(head_value, bytes) else head_value
    works = []
    for line in text.split("\n")[1:]:
        kind, work = line[1:].split("|", 1)
        works.append(((Scope.RELEASE if kind == "r" else Scope.TRACK), work))
    return works

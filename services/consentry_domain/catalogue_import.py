"""A catalogue import, planned: which tracks to write, which are unchanged, which refused.

Pure: the caller brings the tracks as the check side holds them (read after it caught up
with the catalogue log, or not at all), and the plan says what to publish. A track is
unchanged when its UPC, status, set of rights holders, AI disclosure and other facts
(shares, AI credits) equal what is held (the order of the parties carries no meaning).
An ISRC given twice in one import is refused on its second line: which of the two was
meant is not for Consentry to guess.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from consentry_domain.state_types import Track


@dataclass(frozen=True, slots=True)
class Refusal:
    """One item of the import that changes nothing, and why."""

    index: int
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class ImportPlan:
    write: tuple[Track, ...]
    unchanged: tuple[str, ...]
    """ISRCs already held exactly as given: nothing is published for them."""
    refused: tuple[Refusal, ...]


def same_track(a: Track, b: Track) -> bool:
    return (a.upc, a.status, frozenset(a.parties), a.disclosure, a.facts) == (
        b.upc,
        b.status,
        frozenset(b.parties),
        b.disclosure,
        b.facts,
    )


def plan_import(items: Sequence[Track | Refusal], held: Mapping[str, Track] | None) -> ImportPlan:
    """``items`` in the import's order, each a valid track or the refusal of a line that
    did not validate; ``held``: the tracks as the check side holds them, or None when it
    could not be read as of the log's end (then every valid track is written again --
    a track record is an upsert, so that only costs events)."""
    first: dict[str, int] = {}
    write: list[Track] = []
    unchanged: list[str] = []
    refused: list[Refusal] = []
    for index, item in enumerate(items):
        if isinstance(item, Refusal):
            refused.append(item)
            continue
        if (seen := first.get(item.isrc)) is not None:
            refused.append(Refusal(index, "isrc", f"{item.isrc} is already item {seen}"))
            continue
        first[item.isrc] = index
        known = None if held is None else held.get(item.isrc)
        if known is not None and same_track(known, item):
            unchanged.append(item.isrc)
        else:
            write.append(item)
    return ImportPlan(tuple(write), tuple(unchanged), tuple(refused))

"""The catalogue as the domain sees it."""

from __future__ import annotations

from dataclasses import dataclass

from consentry_events import TrackStatus


@dataclass(frozen=True, slots=True)
class Track:
    isrc: str
    upc: str
    parties: tuple[str, ...]
    status: TrackStatus = TrackStatus.ACTIVE

"""The catalogue as the domain sees it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from consentry_events import AiCredit, Share, TrackStatus


def facts_of(shares: Sequence[Share], credits: Sequence[AiCredit]) -> str:
    """A short digest of a track record's other facts (its holders' shares, what AI
    contributed): enough for an import to tell a record unchanged; empty when none."""
    if not shares and not credits:
        return ""
    facts = {
        "shares": sorted((s.party, s.side, s.basis_points) for s in shares),
        "ai_credits": sorted((c.role, c.contribution) for c in credits),
    }
    return hashlib.sha256(orjson.dumps(facts)).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Track:
    isrc: str
    upc: str
    parties: tuple[str, ...]
    status: TrackStatus = TrackStatus.ACTIVE
    disclosure: str | None = None
    """Its AI disclosure (``all`` / ``partly`` / ``none``; None: nothing disclosed): the
    delivery's, and where the state holds them its rights holders' statements, the most
    AI-inclusive of them."""
    facts: str = ""
    """``facts_of`` its shares and AI credits (kept with the record, not in answers)."""

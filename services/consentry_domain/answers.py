"""What a check answers, and why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from consentry_events import Scope


class Verdict(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


class Basis(StrEnum):
    """What a reason rests on."""

    DECISION = "decision"
    DEFAULT = "default"
    UNKNOWN_TRACK = "unknown_track"
    RETIRED_TRACK = "retired_track"
    UNKNOWN_PURPOSE = "unknown_purpose"
    UNVERIFIABLE = "unverifiable"
    PENDING = "pending"
    AI_DISCLOSURE = "ai_disclosure"
    """The taxonomy excludes recordings disclosed this AI-made from the purpose."""


_SCOPE_WORDS = {Scope.PARTY: "party-wide", Scope.RELEASE: "release", Scope.TRACK: "track"}


@dataclass(frozen=True, slots=True)
class Reason:
    basis: Basis
    verdict: Verdict
    party: str | None = None
    decision_id: str | None = None
    scope: Scope | None = None
    work: str | None = None
    purpose: str | None = None

    def describe(self) -> str:
        """Human form, e.g. ``label:L, party-wide, ai`` or ``artist:A, default, ai.training``."""
        if self.basis is Basis.DECISION and self.scope is not None:
            where = _SCOPE_WORDS[self.scope] + (f" {self.work}" if self.work else "")
            return f"{self.party}, {where}, {self.purpose}"
        if self.basis is Basis.DEFAULT:
            return f"{self.party}, default, {self.purpose}"
        if self.basis is Basis.AI_DISCLOSURE:
            return f"disclosed as AI-made, excluded from {self.purpose}"
        return self.basis.value


@dataclass(frozen=True, slots=True)
class Answer:
    isrc: str
    purpose: str
    verdict: Verdict
    reasons: tuple[Reason, ...]
    disclosure: str | None = None
    """The track's AI disclosure (``all`` / ``partly`` / ``none``); None: unknown."""

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOW


def refusal(isrc: str, purpose: str, basis: Basis) -> Answer:
    """A deny that rests on no party's decision: unknown track or purpose, unverifiable, pending."""
    return Answer(isrc, purpose, Verdict.DENY, (Reason(basis, Verdict.DENY, purpose=purpose),))

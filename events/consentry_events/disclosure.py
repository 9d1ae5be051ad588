"""AI disclosure, and who holds which share of a track: what the catalogue says of a
recording (from the label's DDEX ERN delivery, ``ContainsAI`` and its AI contributors)
and what a rights holder states of its own works (``DisclosureStated``).

* ``AiLevel`` -- DDEX's ``ContainsAI``: ``all`` (entirely AI-generated), ``partly``,
  ``none``; absent where nothing was disclosed.
* ``AiCredit`` -- a contribution made by generative AI, as the delivery credits it: its
  DDEX role (``Composer``, ``MixingEngineer`` ...) and how much of it was AI.
* ``Share`` -- a rights holder's share of a track on one side (the ``master``
  recording or the ``composition``), in basis points; a side's shares sum to 10,000.
* ``DisclosureStated`` -- a rights holder states (or corrects, or withdraws) the AI
  disclosure of some of its own works. A party's own act, so it joins the party's
  hash-chained history on the consent topic like its decisions. Where the delivery and
  a holder's statement differ both are kept; a check answers the most AI-inclusive.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, Self
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from consentry_events.fields import (
    Authority,
    ChainHash,
    FrozenEvent,
    Isrc,
    PartyId,
    PrincipalId,
)

AiLevel = Literal["all", "partly", "none"]
AI_ORDER: dict[str | None, int] = {None: 0, "none": 1, "partly": 2, "all": 3}
"""From nothing disclosed to entirely AI-generated: the most AI-inclusive wins."""
STATEMENTS_MAX = 10_000
"""Works in one statement (as in a decision on many works)."""
BASIS_POINTS = 10_000
Side = Literal["master", "composition"]


def most_inclusive(levels: Iterable[str | None]) -> str | None:
    """The most AI-inclusive of these disclosures (None when none says anything)."""
    return max(levels, key=lambda level: AI_ORDER[level], default=None)


class AiCredit(FrozenEvent):
    role: str = Field(
        min_length=1, max_length=100, description="The DDEX role, e.g. Composer, MixingEngineer."
    )
    contribution: AiLevel = Field(description="How much of this role's work was AI.")


class Share(FrozenEvent):
    party: PartyId
    side: Side
    basis_points: int = Field(ge=0, le=BASIS_POINTS, description="Out of 10,000 per side.")


def check_holders(parties: Sequence[str], shares: Iterable[Share]) -> None:
    """A track's rights holders are listed once each; each side of shares given sums to
    10,000, each share a listed holder's, once."""
    if len(set(parties)) != len(parties):
        raise ValueError("parties must not repeat")
    holders = set(parties)
    sums: dict[str, int] = {}
    seen: set[tuple[str, str]] = set()
    for share in shares:
        if share.party not in holders:
            raise ValueError(f"{share.party} holds a share but is not one of the track's parties")
        if (share.party, share.side) in seen:
            raise ValueError(f"{share.party} has two {share.side} shares")
        seen.add((share.party, share.side))
        sums[share.side] = sums.get(share.side, 0) + share.basis_points
    for side, total in sorted(sums.items()):
        if total != BASIS_POINTS:
            raise ValueError(f"the {side} shares sum to {total} basis points, not 10,000")


def check_statement(contains_ai: str | None, ai_credits: Iterable[AiCredit]) -> None:
    """A statement withdrawn (``null``) credits no AI."""
    if contains_ai is None and any(True for _ in ai_credits):
        raise ValueError("a withdrawn statement (contains_ai null) credits no AI")


class DisclosureStated(FrozenEvent):
    """A rights holder's own statement of the AI disclosure of some of its works."""

    type: Literal["disclosure.stated"] = "disclosure.stated"
    schema_version: Literal[1] = 1
    statement_id: UUID
    party: PartyId
    works: tuple[Isrc, ...] = Field(
        min_length=1, max_length=STATEMENTS_MAX, description="The tracks it speaks of, each once."
    )
    contains_ai: AiLevel | None = Field(
        description="What the holder states; null withdraws its statement (the delivery's and "
        "the other holders' then apply)."
    )
    ai_credits: tuple[AiCredit, ...] = Field(default=(), max_length=50)
    recorded_at: AwareDatetime
    actor: PrincipalId | None = None
    authority: Authority | None = None
    prev_hash: ChainHash | None = Field(
        default=None, description="SHA-256 of the party's previous event; null for its first."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if len(set(self.works)) != len(self.works):
            raise ValueError("works must not repeat")
        check_statement(self.contains_ai, self.ai_credits)
        return self

"""Event models, version 1.

Two facts reach Kafka:

* ``ConsentChanged`` -- a party recorded ``allow``, ``deny`` or ``withdrawn`` for a
  purpose at a scope (party-wide, one release, one track). Keyed by party, so one
  party's decisions keep their order on one partition.
* ``ConsentChangedMany`` -- the same decision for many releases or many tracks at once
  (up to ``MANY_WORKS_MAX``): one record, so it is in the log whole or not at all, is one
  link of the party's chain and has one consistency token.
* ``DelegationChanged`` -- a party granted (or revoked) another party the right to
  record decisions for it on a purpose (and the purposes under it). Keyed by the
  granting party, on the consent topic: delegations are part of the party's history.
* ``DisclosureStated`` -- a rights holder states the AI disclosure of some of its works
  (``consentry_events.disclosure``); keyed by party, part of its history.
* ``TrackChanged`` -- the current catalogue record of one track (release, rights
  holders, active or retired, its AI disclosure as delivered and the holders' shares).
  Keyed by ISRC on a compacted topic: the latest record per track is the track.

A party's events (decisions and delegations) form a hash chain: each carries
``prev_hash``, the SHA-256 of the record value of the party's previous event, so any
record slipped into or altered in the history breaks the chain at that point. Each
also names who recorded it (``actor``) and by what right (``authority``).

Models are frozen and refuse unknown fields; ``schema_version`` is explicit so a
later version can be upcast on read.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from consentry_events.disclosure import AiCredit, AiLevel, DisclosureStated, Share, check_holders
from consentry_events.fields import Authority as Authority
from consentry_events.fields import ChainHash as ChainHash
from consentry_events.fields import FrozenEvent
from consentry_events.fields import Isrc as Isrc
from consentry_events.fields import PartyId as PartyId
from consentry_events.fields import PrincipalId as PrincipalId
from consentry_events.fields import PurposePath as PurposePath
from consentry_events.fields import Upc as Upc


class Choice(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    WITHDRAWN = "withdrawn"


class Scope(StrEnum):
    PARTY = "party"
    RELEASE = "release"
    TRACK = "track"


class DelegationAction(StrEnum):
    GRANT = "grant"
    REVOKE = "revoke"


class TrackStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


class ConsentChanged(FrozenEvent):
    """A party's consent decision for one purpose at one scope."""

    type: Literal["consent.changed"] = "consent.changed"
    schema_version: Literal[1] = 1
    decision_id: UUID
    party: PartyId
    purpose: PurposePath
    choice: Choice
    scope: Scope
    upc: Upc | None = Field(default=None, description="The release, for scope 'release'.")
    isrc: Isrc | None = Field(default=None, description="The track, for scope 'track'.")
    effective_from: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None
    recorded_at: AwareDatetime = Field(description="When the write API accepted it.")
    actor: PrincipalId | None = Field(default=None, description="Who recorded it.")
    authority: Authority | None = Field(default=None, description="By what right.")
    prev_hash: ChainHash | None = Field(
        default=None, description="SHA-256 of the party's previous event; null for its first."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        check_scope_and_window(
            self.scope, self.upc, self.isrc, self.choice, self.effective_from, self.expires_at
        )
        return self


def check_scope_and_window(
    scope: Scope,
    upc: str | None,
    isrc: str | None,
    choice: Choice,
    effective_from: datetime | None,
    expires_at: datetime | None,
) -> None:
    """Refuse combinations the model cannot mean."""
    if scope is Scope.PARTY and (upc or isrc):
        raise ValueError("scope 'party' covers all the party's works: give neither upc nor isrc")
    if scope is Scope.RELEASE and (not upc or isrc):
        raise ValueError("scope 'release' needs upc (and no isrc)")
    if scope is Scope.TRACK and (not isrc or upc):
        raise ValueError("scope 'track' needs isrc (and no upc)")
    check_window(choice, effective_from, expires_at)


def check_window(
    choice: Choice, effective_from: datetime | None, expires_at: datetime | None
) -> None:
    """A window is for allow and deny only, and ends after it starts; shared with the
    write API."""
    if choice is Choice.WITHDRAWN and (effective_from or expires_at):
        raise ValueError("a withdrawal takes effect at once: give no effective_from or expires_at")
    if effective_from and expires_at and expires_at <= effective_from:
        raise ValueError("expires_at must be after effective_from")


MANY_WORKS_MAX = 10_000
"""Works in one ``ConsentChangedMany``: ~150 KB of ISRCs, well inside a Kafka record."""

WORK_PATTERNS = {
    "release": re.compile(r"^[0-9]{12,14}$"),
    "track": re.compile(r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$"),
}
"""A work of a decision on many, by scope: the patterns of ``Upc`` and ``Isrc``."""


class ConsentChangedMany(FrozenEvent):
    """A party's consent decision for one purpose on each of many releases or tracks --
    in force, merged and read exactly as that many ``ConsentChanged`` at this record's
    offset would be, one slot per work."""

    type: Literal["consent.changed.many"] = "consent.changed.many"
    schema_version: Literal[1] = 1
    decision_id: UUID
    party: PartyId
    purpose: PurposePath
    choice: Choice
    scope: Literal[Scope.RELEASE, Scope.TRACK]
    works: tuple[str, ...] = Field(
        min_length=1,
        max_length=MANY_WORKS_MAX,
        description="UPCs for scope 'release', ISRCs for scope 'track'; each once.",
    )
    effective_from: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None
    recorded_at: AwareDatetime = Field(description="When the write API accepted it.")
    actor: PrincipalId | None = Field(default=None, description="Who recorded it.")
    authority: Authority | None = Field(default=None, description="By what right.")
    prev_hash: ChainHash | None = Field(
        default=None, description="SHA-256 of the party's previous event; null for its first."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        pattern = WORK_PATTERNS[self.scope.value]
        for index, work in enumerate(self.works):
            if not pattern.fullmatch(work):
                kind = "a UPC (12-14 digits)" if self.scope is Scope.RELEASE else "an ISRC"
                raise ValueError(f"works.{index}: {work!r} is not {kind}")
        if len(set(self.works)) != len(self.works):
            raise ValueError("works must not repeat")
        check_window(self.choice, self.effective_from, self.expires_at)
        return self


class DelegationChanged(FrozenEvent):
    """A party grants or revokes another party the right to decide a purpose for it."""

    type: Literal["consent.delegation"] = "consent.delegation"
    schema_version: Literal[1] = 1
    delegation_id: UUID
    party: PartyId = Field(description="The party that grants (and alone may revoke).")
    delegate: PartyId = Field(description="The party that may then decide for it.")
    purpose: PurposePath = Field(description="The purpose, and every purpose under it.")
    action: DelegationAction
    recorded_at: AwareDatetime
    actor: PrincipalId | None = None
    authority: Authority | None = None
    prev_hash: ChainHash | None = None

    @model_validator(mode="after")
    def _not_self(self) -> Self:
        if self.delegate == self.party:
            raise ValueError("a party cannot delegate to itself")
        return self


class TrackChanged(FrozenEvent):
    """The whole current catalogue record of one track (an upsert, never a delta)."""

    type: Literal["catalogue.track"] = "catalogue.track"
    schema_version: Literal[1] = 1
    isrc: Isrc
    upc: Upc
    parties: tuple[PartyId, ...] = Field(min_length=1, max_length=64)
    status: TrackStatus = TrackStatus.ACTIVE
    recorded_at: AwareDatetime
    actor: PrincipalId | None = Field(default=None, description="Who registered it.")
    title: str | None = Field(
        default=None, max_length=300, description="The recording's title (for people; optional)."
    )
    release_title: str | None = Field(
        default=None, max_length=300, description="Its release's title (optional)."
    )
    contains_ai: AiLevel | None = Field(
        default=None,
        description="The AI disclosure as delivered (DDEX ContainsAI of the recording, else "
        "of its release); null: none delivered.",
    )
    ai_credits: tuple[AiCredit, ...] = Field(
        default=(), max_length=50, description="What AI contributed, as the delivery credits it."
    )
    shares: tuple[Share, ...] = Field(
        default=(),
        max_length=128,
        description="Each rights holder's share per side; a side not given is split equally "
        "among the holders of that side.",
    )
    source: str | None = Field(
        default=None, max_length=200, description="Where it came from, e.g. ern:<MessageId>."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        check_holders(self.parties, self.shares)
        return self


PartyEvent = ConsentChanged | ConsentChangedMany | DelegationChanged | DisclosureStated
"""The events of a party's own, hash-chained history (the consent topic)."""

Decision = ConsentChanged | ConsentChangedMany
"""A party's consent decision, for one scope or for many works."""

AnyEvent = ConsentChanged | ConsentChangedMany | DelegationChanged | DisclosureStated | TrackChanged

Event = Annotated[AnyEvent, Field(discriminator="type")]

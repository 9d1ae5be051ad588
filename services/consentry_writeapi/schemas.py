"""Request and response bodies of the write API."""

from __future__ import annotations

from datetime import datetime
from typing import Self
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from consentry_events import Authority, Choice, DelegationAction, Scope, TrackStatus
from consentry_events.models import (
    ChainHash,
    Isrc,
    PartyId,
    PrincipalId,
    PurposePath,
    Upc,
    check_scope_and_window,
)


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    party: PartyId = Field(description="Who decides: artist:<id>, label:<id>, publisher:<id>.")
    purpose: PurposePath = Field(description="Dotted AI purpose from the taxonomy.")
    choice: Choice = Field(description="allow, deny, or withdrawn (forget this scope+purpose).")
    scope: Scope = Field(description="party (all works), release (give upc) or track (give isrc).")
    upc: Upc | None = None
    isrc: Isrc | None = None
    effective_from: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        check_scope_and_window(
            self.scope, self.upc, self.isrc, self.choice, self.effective_from, self.expires_at
        )
        return self


class DelegationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    party: PartyId = Field(description="The party that grants or revokes (you).")
    delegate: PartyId = Field(description="Who may then decide for it, e.g. its label.")
    purpose: PurposePath = Field(description="The purpose, and every purpose under it.")
    action: DelegationAction


class TrackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    isrc: Isrc
    upc: Upc
    parties: list[PartyId] = Field(min_length=1, max_length=64)
    status: TrackStatus = TrackStatus.ACTIVE

    @model_validator(mode="after")
    def _unique_parties(self) -> Self:
        if len(set(self.parties)) != len(self.parties):
            raise ValueError("parties must not repeat")
        return self


class Accepted(BaseModel):
    """The broker acknowledged the event (acks=all)."""

    token: str = Field(
        description="Consistency token '<consent|catalogue>:<partition>:<offset>': give it to "
        "a check to read your write."
    )
    topic: str
    partition: int
    offset: int
    accepted_at: datetime
    decision_id: UUID | None = None
    delegation_id: UUID | None = None


class DecisionOut(BaseModel):
    """One decision as recorded (history) or as materialised now (current)."""

    decision_id: str
    party: str
    scope: Scope
    upc: str | None = None
    isrc: str | None = None
    purpose: str
    choice: Choice
    effective_from: datetime | None = None
    expires_at: datetime | None = None
    partition: int | None = None
    offset: int = Field(description="The party's order: its offset on its partition.")
    recorded_at: datetime | None = None
    in_force: bool | None = Field(default=None, description="Current view: in force right now.")
    applied: bool | None = Field(
        default=None, description="History view: materialised into Redis (checks see it)."
    )
    actor: PrincipalId | None = Field(default=None, description="History view: who recorded it.")
    authority: Authority | None = Field(default=None, description="History view: by what right.")
    prev_hash: ChainHash | None = Field(
        default=None, description="History view: the chain link to the party's previous event."
    )


class DecisionsOut(BaseModel):
    party: str
    decisions: list[DecisionOut]


class DelegationOut(BaseModel):
    delegate: str
    purpose: str
    offset: int


class DelegationsOut(BaseModel):
    party: str
    delegations: list[DelegationOut] = Field(description="Grants in force now.")


class BrokenLinkOut(BaseModel):
    partition: int
    offset: int
    event_id: str
    expected_prev_hash: str | None
    found_prev_hash: str | None


class ChainOut(BaseModel):
    """The party's hash chain, verified end to end from the log."""

    party: str
    events: int
    intact: bool
    head: str | None = Field(description="Hash of the party's last event.")
    first_broken: BrokenLinkOut | None = Field(
        description="The first event whose prev_hash is not its predecessor's hash."
    )

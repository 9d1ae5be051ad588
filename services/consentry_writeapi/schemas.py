"""Request and response bodies of the write API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, Self
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from consentry_events import (
    AiCredit,
    AiLevel,
    Authority,
    Choice,
    ConsentChanged,
    ConsentChangedMany,
    DelegationAction,
    DelegationChanged,
    DisclosureStated,
    PartyEvent,
    Scope,
    Share,
    TrackStatus,
)
from consentry_events.disclosure import check_holders
from consentry_events.models import (
    ChainHash,
    Isrc,
    PartyId,
    PrincipalId,
    Upc,
)
from consentry_events.tokens import Token
from consentry_http import TaxonomyPurpose


class DelegationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    party: PartyId = Field(description="The party that grants or revokes (you).")
    delegate: PartyId = Field(description="Who may then decide for it, e.g. its label.")
    purpose: TaxonomyPurpose = Field(description="The purpose, and every purpose under it.")
    action: DelegationAction


class TrackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    isrc: Isrc
    upc: Upc
    parties: list[PartyId] = Field(
        min_length=1,
        max_length=64,
        json_schema_extra={"uniqueItems": True},
        description="Every rights holder of the recording, each once.",
    )
    status: TrackStatus = TrackStatus.ACTIVE
    title: str | None = Field(default=None, max_length=300, description="The recording's title.")
    release_title: str | None = Field(default=None, max_length=300, description="Its release's.")
    contains_ai: AiLevel | None = Field(
        default=None, description="The AI disclosure delivered (DDEX ContainsAI)."
    )
    ai_credits: list[AiCredit] = Field(
        default=[], max_length=50, description="What AI contributed, by DDEX role."
    )
    shares: list[Share] = Field(
        default=[],
        max_length=128,
        description="Each holder's share per side (master, composition), in basis points "
        "summing to 10,000 per side given; a side not given is split equally.",
    )
    source: str | None = Field(default=None, max_length=200, description="e.g. ern:<MessageId>.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        check_holders(self.parties, self.shares)
        return self


IMPORT_MAX_TRACKS = 10_000


class TrackImport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tracks: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=IMPORT_MAX_TRACKS,
        description="Track records, each as POST /v1/tracks takes it. An item that does not "
        "validate is refused on its own (see `refused`); the valid rest are written.",
    )


class ImportRefusal(BaseModel):
    """One item that changed nothing."""

    index: int = Field(description="The item's position in `tracks`, from 0.")
    field: str = Field(description="The field that was wrong, e.g. 'upc' or 'parties.1'.")
    reason: str


class ImportResult(BaseModel):
    """Every item is accounted for: written + unchanged + refused = items sent."""

    written: int = Field(description="Records the broker acknowledged (acks=all).")
    unchanged: int = Field(description="Tracks already held exactly as sent: nothing written.")
    refused: list[ImportRefusal]
    tokens: list[str] = Field(
        description="Per catalogue partition written, the consistency token of its last "
        "record: a check given all of them reads every track of this import."
    )
    compared: bool = Field(
        description="False when the state had not caught up with the catalogue log in time, "
        "so unchanged tracks could not be recognised and were written again (harmless: a "
        "track record is an upsert)."
    )


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
    statement_id: UUID | None = None


def accepted(topic: str, partition: int, offset: int, event: PartyEvent | None = None) -> Accepted:
    """The answer to a write the broker acknowledged at ``topic``/``partition``/``offset``."""
    return Accepted(
        token=str(Token(topic, partition, offset)),
        topic=topic,
        partition=partition,
        offset=offset,
        accepted_at=datetime.now(UTC),
        decision_id=(
            event.decision_id if isinstance(event, ConsentChanged | ConsentChangedMany) else None
        ),
        delegation_id=event.delegation_id if isinstance(event, DelegationChanged) else None,
        statement_id=event.statement_id if isinstance(event, DisclosureStated) else None,
    )


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


class DelegatorOut(BaseModel):
    party: str = Field(description="The party that delegated.")
    purpose: str
    offset: int = Field(description="The party's order of its latest grant or revoke.")
    in_force: bool = Field(description="False once revoked.")


class DelegatorsOut(BaseModel):
    delegate: str
    delegators: list[DelegatorOut] = Field(
        description="Every party that delegated a purpose to the delegate, revoked ones too."
    )


class BrokenLinkOut(BaseModel):
    partition: int
    offset: int
    event_id: str
    expected_prev_hash: str | None
    found_prev_hash: str | None


class BadSignatureOut(BaseModel):
    partition: int
    offset: int
    event_id: str
    verdict: Literal["unsigned", "unknown_key", "bad_signature"]


class ChainOut(BaseModel):
    """The party's hash chain, verified end to end from the log."""

    party: str
    events: int
    intact: bool
    head: str | None = Field(description="Hash of the party's last event.")
    first_broken: BrokenLinkOut | None = Field(
        description="The first event whose prev_hash is not its predecessor's hash."
    )
    first_bad_signature: BadSignatureOut | None = Field(
        description="The first event not validly signed by a key of the event key set."
    )
    legacy: int = Field(description="Unsigned events before the cut-over, admitted as history.")


class WorksQuery(BaseModel):
    """``GET /v1/parties/{party}/works``'s query; unknown parameters are refused."""

    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(default=None, max_length=200, description="ISRC, UPC or part of a title.")
    offset: int = Field(default=0, ge=0, description="Releases to skip.")
    limit: int = Field(default=20, ge=1, le=100, description="Releases per page.")


class TrackOut(BaseModel):
    isrc: Isrc
    title: str | None
    retired: bool
    delivered: AiLevel | None = Field(
        description="The AI disclosure the catalogue delivered (DDEX ContainsAI)."
    )
    stated: AiLevel | None = Field(description="The party's own standing statement.")


class ReleaseOut(BaseModel):
    upc: Upc
    title: str | None
    tracks: list[TrackOut]


class WorksOut(BaseModel):
    party: PartyId
    releases_total: int = Field(description="Releases that match (all the party's without q).")
    offset: int
    next_offset: int | None = Field(description="The next page's offset; null on the last.")
    releases: list[ReleaseOut]

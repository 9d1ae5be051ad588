"""Request and response bodies of the downstream routes: systems, receipts, a decision's
receipt."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from consentry_events.downstream import DEADLINE_MAX_S, ChangeId, SystemName
from consentry_events.models import PartyId
from consentry_http import TaxonomyPurpose


class SystemRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purposes: list[TaxonomyPurpose] = Field(
        min_length=1,
        max_length=50,
        description="The purposes it acts on; a change of one of them or of a purpose under "
        "them is owed a receipt.",
    )
    deadline_s: int = Field(
        ge=1, le=DEADLINE_MAX_S, description="Seconds it has to send each change's receipt."
    )


class SystemOut(BaseModel):
    name: SystemName
    purposes: list[str]
    deadline_s: int
    registered_at: datetime
    pending: int = Field(description="Changes it has not acknowledged yet.")
    overdue: int = Field(description="Of those, the ones past its deadline.")


class SystemsOut(BaseModel):
    systems: list[SystemOut]


class _ReceiptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    change: ChangeId = Field(description="The change's place on the feed, '<partition>:<offset>'.")


class ActedReceipt(_ReceiptIn):
    status: Literal["done", "not_held"] = Field(
        description="'done': purged or excluded; 'not_held': the system never had the track."
    )
    reason: str | None = Field(default=None, min_length=1, max_length=500, description="A note.")


class FailedReceipt(_ReceiptIn):
    status: Literal["failed"]
    reason: str = Field(min_length=1, max_length=500, description="Why it could not act.")


ReceiptIn = Annotated[ActedReceipt | FailedReceipt, Field(discriminator="status")]


RECEIPTS_MAX = 10_000


class ReceiptsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    receipts: list[ReceiptIn] = Field(min_length=1, max_length=RECEIPTS_MAX)


class ReceiptsAccepted(BaseModel):
    """The broker acknowledged every receipt (acks=all)."""

    accepted: int
    system: SystemName


class SystemStatus(BaseModel):
    system: SystemName
    status: str = Field(
        description="'done' (every change acted on or not held), 'pending', 'overdue' "
        "(pending past the deadline), 'failed' (some failed, none pending), or 'not_owed' "
        "(none of its purposes changed)."
    )
    pending: int
    done: int
    not_held: int
    failed: int
    due_by: datetime | None = Field(description="When the last of its receipts is due.")
    last_receipt_at: datetime | None


class DecisionReceipt(BaseModel):
    """How far a decision has propagated: checks, then every downstream system."""

    decision_id: UUID
    party: PartyId
    token: str = Field(description="The decision's consistency token.")
    recorded_at: datetime = Field(description="When Kafka took the decision (about the 202).")
    checks_enforcing_by: datetime | None = Field(
        description="By when every check denied or allowed by it, at the latest (null: not "
        "seen applied yet)."
    )
    enforced_after_ms: int | None = Field(description="checks_enforcing_by - recorded_at, in ms.")
    tracks_changed: int = Field(
        description="(track, purpose) answers it changed, each published on the change feed."
    )
    first_change_at: datetime | None
    last_change_at: datetime | None
    downstream: list[SystemStatus]

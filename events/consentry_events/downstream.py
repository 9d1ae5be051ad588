"""What downstream AI systems are told, and what they answer (version 1).

* ``EnforcementChanged`` -- on the change feed: the answer for (track, purpose) changed.
* ``DownstreamSystem`` -- an operator registered a downstream system: the purposes it
  acts on and its deadline per change.
* ``ReceiptGiven`` -- a system's receipt for one change of the feed.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from consentry_events.fields import FrozenEvent, Isrc, PrincipalId, PurposePath


class EnforcementCause(FrozenEvent):
    """The log record whose application changed the answer."""

    topic: str
    partition: int
    offset: int


class EnforcementChanged(FrozenEvent):
    """The effective answer for (track, purpose) changed: downstream AI systems act on it.

    Published by the enforcer after the change is in Redis, keyed by ``<isrc>|<purpose>``
    on the change feed (kept ``FEED_RETENTION_MS``, in order per pair), at least once: a
    consumer keeps the latest per key (a repeat carries the same answer).
    """

    type: Literal["enforcement.changed"] = "enforcement.changed"
    schema_version: Literal[1] = 1
    isrc: Isrc
    purpose: PurposePath
    answer: Literal["allow", "deny"]
    previous: Literal["allow", "deny"] | None = Field(
        description="The answer last published for this pair; null when it is the first."
    )
    reasons: tuple[str, ...] = Field(description="Human summaries, e.g. 'label:L, party-wide, ai'.")
    cause: EnforcementCause | None = Field(
        description="The record that caused it; null when a decision's window opened or "
        "closed, or when a sweep after the enforcer's store was lost found the change."
    )
    decided_at: AwareDatetime


SystemName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
"""A downstream AI system's name, e.g. ``training-pipeline``; its principal is
``system:<name>``."""

ChangeId = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,5}:[0-9]{1,19}$")]
"""An enforcement change's place on the change feed: ``<partition>:<offset>``."""

DEADLINE_MAX_S = 90 * 86_400


class DownstreamSystem(FrozenEvent):
    """An operator registered (or re-registered) a downstream AI system: the purposes it
    acts on, and how long it has to acknowledge each change with a receipt. Keyed by
    name on a compacted topic: the latest record per name is the system."""

    type: Literal["downstream.registered"] = "downstream.registered"
    schema_version: Literal[1] = 1
    name: SystemName
    purposes: tuple[PurposePath, ...] = Field(
        min_length=1, max_length=50, description="Changes of these purposes (and those under them)."
    )
    deadline_s: int = Field(
        ge=1, le=DEADLINE_MAX_S, description="Seconds it has to send each change's receipt."
    )
    recorded_at: AwareDatetime
    actor: PrincipalId


class ReceiptStatus(StrEnum):
    DONE = "done"
    """Acted on: the track purged from or excluded in what the system holds."""
    NOT_HELD = "not_held"
    """The system never held the track: nothing to do."""
    FAILED = "failed"
    """It could not act (``reason`` says why); a later receipt may replace it."""


class ReceiptGiven(FrozenEvent):
    """A downstream system's receipt for one change of the feed. Keyed by
    ``<system>|<change>``; the latest receipt per change counts."""

    type: Literal["receipt.given"] = "receipt.given"
    schema_version: Literal[1] = 1
    system: SystemName
    change: ChangeId
    status: ReceiptStatus
    reason: str | None = Field(
        default=None, max_length=500, description="Why it failed; a note otherwise."
    )
    recorded_at: AwareDatetime

    @model_validator(mode="after")
    def _failed_says_why(self) -> Self:
        if self.status is ReceiptStatus.FAILED and not self.reason:
            raise ValueError("a failed receipt gives a reason")
        return self

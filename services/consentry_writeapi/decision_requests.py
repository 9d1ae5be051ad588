"""The bodies of ``POST /v1/decisions`` (one scope) and ``POST /v1/decisions/many``
(many releases or many tracks), as discriminated unions the OpenAPI document states
exactly: by scope, then by choice (a withdrawal takes no window)."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic.fields import FieldInfo

from consentry_events import Choice, Scope
from consentry_events.models import MANY_WORKS_MAX, Isrc, PartyId, Upc, check_window
from consentry_http import TaxonomyPurpose


def _text_only(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("give a date-time as RFC 3339 text, e.g. 2027-01-01T00:00:00Z")
    return value


Moment = Annotated[AwareDatetime, BeforeValidator(_text_only)]
"""A date-time with its offset, as RFC 3339 text (the document says so; a number is not
read as a Unix time)."""


class _Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    party: PartyId = Field(description="Who decides: artist:<id>, label:<id>, publisher:<id>.")
    purpose: TaxonomyPurpose = Field(description="Dotted AI purpose from the taxonomy.")


class _Decided(_Decision):
    choice: Literal[Choice.ALLOW, Choice.DENY] = Field(description="allow or deny.")
    effective_from: Moment | None = Field(default=None, description="In force from then on.")
    expires_at: Moment | None = Field(
        default=None, description="In force until then; must be after effective_from."
    )

    @model_validator(mode="after")
    def _window(self) -> Self:
        check_window(self.choice, self.effective_from, self.expires_at)
        return self


class _Withdrawn(_Decision):
    choice: Literal[Choice.WITHDRAWN] = Field(
        description="Forget this scope and purpose: from now on the less specific decisions "
        "or the default apply. Takes effect at once (no window)."
    )


class _Party(BaseModel):
    scope: Literal[Scope.PARTY]


class _Release(BaseModel):
    scope: Literal[Scope.RELEASE]
    upc: Upc


class _Track(BaseModel):
    scope: Literal[Scope.TRACK]
    isrc: Isrc


class PartyDecision(_Decided, _Party):
    """All the party's works, including works registered later."""


class PartyWithdrawal(_Withdrawn, _Party):
    pass


class ReleaseDecision(_Decided, _Release):
    """One release (UPC)."""


class ReleaseWithdrawal(_Withdrawn, _Release):
    pass


class TrackDecision(_Decided, _Track):
    """One track (ISRC)."""


class TrackWithdrawal(_Withdrawn, _Track):
    pass


DecisionRequest = Annotated[
    Annotated[PartyDecision | PartyWithdrawal, Field(discriminator="choice")]
    | Annotated[ReleaseDecision | ReleaseWithdrawal, Field(discriminator="choice")]
    | Annotated[TrackDecision | TrackWithdrawal, Field(discriminator="choice")],
    Field(discriminator="scope"),
]
"""A decision at one scope -- ``party`` takes no work, ``release`` a UPC, ``track`` an
ISRC -- either allow/deny (optionally in a window) or a withdrawal (no window)."""


def _each_once(works: list[str]) -> list[str]:
    twice = sorted(work for work, n in Counter(works).items() if n > 1)
    if twice:
        raise ValueError(f"works must not repeat: {', '.join(twice)} more than once")
    return works


def _works(kind: str) -> FieldInfo:
    field: FieldInfo = Field(
        min_length=1,
        max_length=MANY_WORKS_MAX,
        json_schema_extra={"uniqueItems": True},
        description=f"The {kind}, each once, at most {MANY_WORKS_MAX:,}.",
    )
    return field


Upcs = Annotated[list[Upc], AfterValidator(_each_once), _works("releases (UPCs)")]
Isrcs = Annotated[list[Isrc], AfterValidator(_each_once), _works("tracks (ISRCs)")]


class _Releases(BaseModel):
    scope: Literal[Scope.RELEASE]
    works: Upcs


class _Tracks(BaseModel):
    scope: Literal[Scope.TRACK]
    works: Isrcs


class ReleasesDecision(_Decided, _Releases):
    """The same allow or deny for each of many releases."""


class ReleasesWithdrawal(_Withdrawn, _Releases):
    pass


class TracksDecision(_Decided, _Tracks):
    """The same allow or deny for each of many tracks."""


class TracksWithdrawal(_Withdrawn, _Tracks):
    pass


ManyDecisionsRequest = Annotated[
    Annotated[ReleasesDecision | ReleasesWithdrawal, Field(discriminator="choice")]
    | Annotated[TracksDecision | TracksWithdrawal, Field(discriminator="choice")],
    Field(discriminator="scope"),
]
"""One decision for many works -- ``release``: UPCs, ``track``: ISRCs -- recorded as one
event: all of it or none of it, one consistency token, one link of the party's chain."""

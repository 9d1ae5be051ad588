"""What AI features used, and what their outputs owe to which works (version 1).

* ``UsageReported`` -- a batch of uses an AI feature reported (one record per report,
  keyed by the reporter, so a reporter's reports stay in order and its use ids are
  deduplicated where they land);
* ``AttributionReported`` -- an AI service's report of one generated output's training
  works and their shares, per side;
* ``UseViolated`` -- the meter found a use of a track that was denied at that moment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, Field, StringConstraints, TypeAdapter, model_validator

from consentry_events.disclosure import Side
from consentry_events.fields import FrozenEvent, Isrc, PartyId, PrincipalId, PurposePath

USES_MAX = 5_000
"""Uses in one report (the SDK sends 1,000 at most)."""

Token = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
"""An identifier a reporter chooses: a use id, a model, a version, an output id."""

UnitKind = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
"""What a use's units count: ``training_inclusion``, ``generation``, ``seconds_played``."""

Period = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
"""A calendar month in UTC, ``2026-11``."""

ATTRIBUTION_TOLERANCE = Decimal("0.0001")
"""How far an output's shares on a side may be from summing to 1 (rounding in the
reporting service); further is refused."""


class Use(FrozenEvent):
    use_id: Token = Field(description="The reporter's id of this use: a repeat counts once.")
    isrc: Isrc
    purpose: PurposePath
    units: Decimal = Field(gt=0, le=10**12, description="How much: in the unit kind's own units.")
    unit_kind: UnitKind
    model: Token = Field(description="The model or feature that used the track.")
    model_version: Token
    happened_at: AwareDatetime = Field(description="When the use happened (not reported).")


class UsageReported(FrozenEvent):
    type: Literal["usage.reported"] = "usage.reported"
    schema_version: Literal[1] = 1
    report_id: Token
    reporter: PrincipalId = Field(description="The AI feature's principal (its token's).")
    uses: tuple[Use, ...] = Field(min_length=1, max_length=USES_MAX)
    recorded_at: AwareDatetime


class Attribution(FrozenEvent):
    isrc: Isrc
    side: Side
    share: Decimal = Field(ge=0, le=1)


def check_shares(shares: Iterable[Attribution]) -> None:
    """Each side given sums to 1 within ``ATTRIBUTION_TOLERANCE``, a work once per side."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    seen: set[tuple[str, str]] = set()
    for item in shares:
        if (item.isrc, item.side) in seen:
            raise ValueError(f"{item.isrc} has two {item.side} shares")
        seen.add((item.isrc, item.side))
        sums[item.side] += item.share
    for side, total in sorted(sums.items()):
        if abs(total - 1) > ATTRIBUTION_TOLERANCE:
            raise ValueError(
                f"the {side} shares sum to {total}, not 1 (within {ATTRIBUTION_TOLERANCE})"
            )


class AttributionReported(FrozenEvent):
    type: Literal["attribution.reported"] = "attribution.reported"
    schema_version: Literal[1] = 1
    report_id: Token
    reporter: PrincipalId
    output_id: Token = Field(description="The generated output (or the period's report).")
    purpose: PurposePath
    period: Period = Field(description="The month whose output revenue it attributes.")
    shares: tuple[Attribution, ...] = Field(min_length=1, max_length=1_000)
    recorded_at: AwareDatetime

    @model_validator(mode="after")
    def _sums(self) -> Self:
        check_shares(self.shares)
        return self


class UseViolated(FrozenEvent):
    """A use of a track at a moment its consent denied the purpose: it never earns, and
    each rights holder listed sees it. Keyed by ISRC on the violations topic."""

    type: Literal["usage.violation"] = "usage.violation"
    schema_version: Literal[1] = 1
    reporter: PrincipalId
    report_id: Token
    use: Use
    parties: tuple[PartyId, ...] = Field(description="The track's rights holders then.")
    reasons: tuple[str, ...] = Field(description="Why it was denied then.")
    judged_at: AwareDatetime


UsageEvent = UsageReported | AttributionReported
"""What the usage topic carries."""

_USAGE_EVENT: TypeAdapter[UsageEvent] = TypeAdapter(
    Annotated[UsageEvent, Field(discriminator="type")]
)


def read_usage(value: bytes) -> UsageEvent:
    """A record of the usage topic; ``ValidationError`` saying why for anything else."""
    return _USAGE_EVENT.validate_json(value)

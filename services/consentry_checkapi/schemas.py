"""Request and response bodies of the check service."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from consentry_events.models import Isrc, PurposePath
from consentry_events.tokens import TOKEN_PATTERN


class ReasonOut(BaseModel):
    basis: str
    verdict: str
    summary: str
    party: str | None = None
    decision_id: str | None = None
    scope: str | None = None
    work: str | None = None
    purpose: str | None = None


class AnswerOut(BaseModel):
    isrc: str
    purpose: str
    answer: str = Field(description="'allow' or 'deny'.")
    reasons: list[ReasonOut]


_TOKEN = Field(
    default=None,
    pattern=TOKEN_PATTERN,
    description="Consistency token from the write API: answer only from state that has "
    "applied it (else deny, reason 'pending').",
)
_PURPOSE = Field(
    description="Dotted AI purpose, e.g. ai.training; one outside the taxonomy is denied "
    "with reason 'unknown_purpose'."
)


class CheckQuery(BaseModel):
    """``GET /v1/check``'s query; unknown parameters are refused (a misspelt ``token``
    must not silently turn a read-your-writes check into a plain one)."""

    model_config = ConfigDict(extra="forbid")

    isrc: Isrc = Field(description="The track's ISRC.")
    purpose: PurposePath = _PURPOSE
    token: str | None = _TOKEN


class BatchCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: PurposePath = _PURPOSE
    isrcs: list[Isrc] = Field(min_length=1, max_length=1000)
    token: str | None = _TOKEN


class BatchAnswer(BaseModel):
    answers: list[AnswerOut]


class Readiness(BaseModel):
    """A probe's answer; ``/readyz`` also says which part is missing."""

    status: str
    redis: str | None = None
    materialiser_heartbeat_age_s: float | None = None
    materialiser: str | None = None
    cache: str | None = None

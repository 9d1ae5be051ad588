"""Request and response bodies of the check service."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from consentry_events.models import Isrc, PurposePath


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


class BatchCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: PurposePath
    isrcs: list[Isrc] = Field(min_length=1, max_length=1000)
    token: str | None = Field(default=None, description="Consistency token from the write API.")


class BatchAnswer(BaseModel):
    answers: list[AnswerOut]

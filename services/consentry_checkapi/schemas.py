"""Request and response bodies of the check service."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from consentry_domain import Answer
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

    @classmethod
    def of(cls, answer: Answer) -> AnswerOut:
        return cls(
            isrc=answer.isrc,
            purpose=answer.purpose,
            answer=answer.verdict.value,
            reasons=[
                ReasonOut(
                    basis=r.basis.value,
                    verdict=r.verdict.value,
                    summary=r.describe(),
                    party=r.party,
                    decision_id=r.decision_id,
                    scope=None if r.scope is None else r.scope.value,
                    work=r.work,
                    purpose=r.purpose,
                )
                for r in answer.reasons
            ],
        )


class BatchCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: PurposePath
    isrcs: list[Isrc] = Field(min_length=1, max_length=1000)


class BatchAnswer(BaseModel):
    answers: list[AnswerOut]

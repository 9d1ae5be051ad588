"""Request and response bodies of the check service."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from consentry_events.models import Isrc, PurposePath
from consentry_events.tokens import TOKEN_PATTERN
from consentry_http import TaxonomyPurpose


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
    disclosure: Literal["all", "partly", "none", "unknown"] = Field(
        description="The track's AI disclosure: the delivery's (DDEX ContainsAI) or its "
        "rights holders' statements, the most AI-inclusive; 'unknown' when none was made."
    )
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


class SignalsOut(BaseModel):
    """A track's AI reservations in the formats crawlers and AI vendors read."""

    isrc: str
    tdmrep: dict[str, str] = Field(
        description="W3C TDMRep: tdm-reservation ('1': reserved) and, with a reservation, "
        "tdm-policy when configured; also sent as response headers."
    )
    content_usage: str | None = Field(
        description="IETF AI preferences: the Content-Usage field (RFC 9651 dictionary, "
        "e.g. 'train-ai=n'); also sent as a response header."
    )
    cawg: dict[str, Any] = Field(
        description="The CAWG training-and-data-mining assertion (1.1) for a C2PA manifest."
    )
    disclosure: Literal["all", "partly", "none", "unknown"]


class BatchAnswer(BaseModel):
    answers: list[AnswerOut]


class Readiness(BaseModel):
    """A probe's answer; ``/readyz`` also says which part is missing."""

    status: str
    redis: str | None = None
    materialiser_heartbeat_age_s: float | None = None
    materialiser: str | None = None
    cache: str | None = None


FILTER_MAX = 100_000


class FilterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: TaxonomyPurpose = Field(
        description="A purpose of the taxonomy, e.g. ai.training (others: 422)."
    )
    isrcs: list[str] = Field(
        min_length=1,
        max_length=FILTER_MAX,
        description="A data set's ISRCs (up to 100,000 a request); anything that is not an "
        "ISRC is simply not allowed.",
    )


class FilterAnswer(BaseModel):
    allowed: list[str] = Field(description="The ISRCs allowed for the purpose, in input order.")
    disclosure: dict[str, Literal["all", "partly", "none"]] = Field(
        description="The AI disclosure of each allowed track that has one (an allowed ISRC "
        "left out is undisclosed)."
    )
    checked: int
    fresh_until: str = Field(
        description="The state the answer was computed from was complete up to this instant "
        "(ISO 8601). The change feed's cursor comes with the SDK's filter, which reads Kafka; "
        "the check side has no Kafka access by design."
    )

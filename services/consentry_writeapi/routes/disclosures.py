"""AI disclosure stated by the rights holders themselves, beside what the catalogue
delivered (DDEX ``ContainsAI``):

* ``POST /v1/disclosures``: a party states (or corrects, or withdraws with ``null``) the
  AI disclosure of up to 10,000 of its tracks -- its own act (or an admin's for it),
  recorded in its hash-chained history like its decisions, one token for all of them;
* ``GET /v1/tracks/{isrc}/disclosure``: what the delivery said, what each rights holder
  states, and what checks answer (the most AI-inclusive of them);
* ``GET /v1/parties/{party}/disclosures``: the party's statements, from its history.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from fastapi import APIRouter, Path
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from consentry_events import AiCredit, AiLevel, DisclosureStated, check_statement, most_inclusive
from consentry_events.models import Isrc, PartyId
from consentry_http import Caller, HttpProblem, responses
from consentry_http.inputs import body_rules, empty_when_null
from consentry_kafka import party_history
from consentry_writeapi.authorise import holds_every_track, may_state_disclosure
from consentry_writeapi.decide import event_maker
from consentry_writeapi.decision_requests import Isrcs
from consentry_writeapi.deps import IdempotencyKey, Kafka, KeyRecords, Parties, Stored, attempt
from consentry_writeapi.routes.parties import Reader
from consentry_writeapi.schemas import Accepted
from consentry_writeapi.written import WRITE_RESPONSES, written

router = APIRouter(tags=["disclosure"])

STATEMENT_MAX_BYTES = 1024 * 1024
"""A statement on 10,000 ISRCs is ~170 KB of JSON, credits included (the app's body
limit for this path; every other route keeps ``max_body_bytes``)."""

Level = Literal["all", "partly", "none"]


class DisclosureRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    party: PartyId = Field(description="The rights holder stating it (you).")
    works: Isrcs
    contains_ai: AiLevel | None = Field(
        description="all (entirely AI-generated), partly, none; null withdraws your statement."
    )
    ai_credits: list[AiCredit] = Field(
        default=[],
        max_length=50,
        description="What AI contributed, by DDEX role (none when contains_ai is null).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        check_statement(self.contains_ai, self.ai_credits)
        return self


class DisclosureOut(BaseModel):
    isrc: str
    disclosure: Level | Literal["unknown"] = Field(
        description="What checks answer: the most AI-inclusive of the delivery and the "
        "current rights holders' statements."
    )
    delivered: Level | None = Field(description="The catalogue delivery's (DDEX ContainsAI).")
    stated: dict[str, Level] = Field(description="Each rights holder's standing statement.")


class StatementOut(BaseModel):
    statement_id: str
    works: list[str]
    contains_ai: Level | None
    ai_credits: list[AiCredit]
    recorded_at: str
    actor: str | None
    offset: int


class StatementsOut(BaseModel):
    party: str
    statements: list[StatementOut]


@router.post(
    "/v1/disclosures",
    status_code=202,
    response_model=Accepted,
    responses=WRITE_RESPONSES,
    openapi_extra=body_rules(empty_when_null("ai_credits", "contains_ai")),
)
async def state_disclosure(
    body: DisclosureRequest,
    principal: Caller,
    parties: Parties,
    stored: Stored,
    records: KeyRecords,
    key: IdempotencyKey,
) -> Response:
    """State the AI disclosure of your own tracks: kept beside the delivery's, both
    shown; checks answer the most AI-inclusive. A track the catalogue lists without you
    is refused (403, each named) and then nothing is written."""
    authority = may_state_disclosure(principal, body.party)
    holds_every_track(body.party, body.works, await stored.tracks(body.works))
    fields = body.model_dump()
    make = event_maker(DisclosureStated, "statement_id", principal, authority, fields)
    handle = attempt(records, principal, key, "disclosures", body)
    return written(await parties.append(body.party, make, handle))


@router.get(
    "/v1/tracks/{isrc}/disclosure", response_model=DisclosureOut, responses=responses(401, 404, 422)
)
async def track_disclosure(
    isrc: Annotated[Isrc, Path()], _: Caller, stored: Stored
) -> DisclosureOut:
    """A track's AI disclosure: delivered, stated by each rights holder, and answered."""
    track, stated = await stored.disclosure(isrc)
    if track is None:
        raise HttpProblem("unknown_track", f"no track {isrc} is registered", status_code=404)
    held = {party: level for party, level in stated.items() if party in track.parties}
    answered = most_inclusive([track.disclosure, *held.values()])
    out = {"disclosure": answered or "unknown", "delivered": track.disclosure, "stated": held}
    return DisclosureOut.model_validate({"isrc": isrc, **out})


@router.get(
    "/v1/parties/{party}/disclosures",
    response_model=StatementsOut,
    responses=responses(401, 403, 422, 503),
)
async def party_disclosures(party: PartyId, _: Reader, kafka: Kafka) -> StatementsOut:
    """Every disclosure statement the party made, from Kafka, oldest first."""
    statements = [
        StatementOut(
            statement_id=str(r.event.statement_id),
            works=list(r.event.works),
            contains_ai=r.event.contains_ai,
            ai_credits=list(r.event.ai_credits),
            recorded_at=r.event.recorded_at.isoformat(),
            actor=r.event.actor,
            offset=r.offset,
        )
        for r in await party_history(kafka, party)
        if isinstance(r.event, DisclosureStated)
    ]
    return StatementsOut(party=party, statements=statements)

"""AI features report what they used, where they already check consent:

* ``POST /v1/usage``: a batch of up to 1,000 uses (track, purpose, units and their kind,
  model and version, when it happened, the feature's own id for the use);
* ``POST /v1/attributions``: one generated output's training works and their shares,
  per side (``master``, ``composition``), each side summing to 1 within 0.0001.

Both are service (or admin) tokens' acts; the token's subject is the reporter. A report
is validated whole -- every purpose known, every use neither in the future nor older
than the horizon, the shares summing -- and refused whole with every reason (nothing
written), else written to the usage topic with the check side's own Kafka principal,
which may write that topic and nothing else. 202 once Kafka holds it; a use id the
reporter sent before counts once (the meter's business). 503 while Kafka is
unreachable: checks never wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from consentry_checkapi.checks import services_only
from consentry_domain.purposes import Taxonomy
from consentry_events import USAGE, AttributionReported, UsageReported
from consentry_events.usage import Attribution, Period, Token, Use, check_shares
from consentry_http import Caller, FieldProblem, HttpProblem, Invalid, TaxonomyPurpose, responses
from consentry_http.inputs import body_rules, recent, sums_to_one
from consentry_kafka import KafkaConnection
from consentry_kafka.produce import start_producer
from consentry_meter.settings import USAGE_HORIZON_S

log = logging.getLogger(__name__)

USES_MAX = 1_000
USAGE_MAX_BYTES = 1024 * 1024
"""1,000 uses with long ids are ~400 KB of JSON."""
FUTURE_SKEW = timedelta(minutes=5)
"""How far ahead of this server's clock a use may say it happened (clock skew)."""


Units = Annotated[
    Decimal,
    Field(gt=0, le=10**12, description="How much, in the unit kind's own units."),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "maximum": 10**12}),
]
"""Read exactly (a decimal string is taken as well as a number)."""
Share = Annotated[
    Decimal,
    Field(ge=0, le=1, description="The work's share of the output on that side."),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": 1}),
]


class UseIn(Use):
    purpose: TaxonomyPurpose
    units: Units
    happened_at: AwareDatetime = Field(
        description="When the use happened: not in the future, nor longer ago than the "
        "reporting horizon (35 days unless configured otherwise)."
    )


class UsageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    report_id: Token | None = Field(
        default=None, description="Your id of this report (one is made when absent)."
    )
    uses: list[UseIn] = Field(min_length=1, max_length=USES_MAX)


class AttributionIn(Attribution):
    share: Share


class AttributionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    report_id: Token | None = None
    output_id: Token = Field(description="The generated output (or the period's report).")
    purpose: TaxonomyPurpose
    period: Period = Field(description="The month whose output revenue it attributes.")
    shares: list[AttributionIn] = Field(min_length=1, max_length=1_000)

    @model_validator(mode="after")
    def _sums(self) -> AttributionRequest:
        check_shares(self.shares)
        return self


class ReportAccepted(BaseModel):
    report_id: str
    accepted: int = Field(description="Uses (or shares) written to the usage topic.")


class UsageLog:
    """The usage topic's producer (acks=all, idempotent), connected in the background so
    the check service starts and answers checks whether or not Kafka is up."""

    def __init__(self, kafka: KafkaConnection, timeout_s: float = 10.0) -> None:
        self._kafka = kafka
        self._timeout_s = timeout_s
        self._producer: AIOKafkaProducer | None = None
        self._connecting: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._connecting = asyncio.create_task(self._connect())

    async def _connect(self) -> None:
        delay_s = 0.2
        while True:
            producer = AIOKafkaProducer(
                **self._kafka.client_args(),
                acks="all",
                enable_idempotence=True,
                request_timeout_ms=int(self._timeout_s * 1000),
                client_id="consentry-usage",
            )
            try:
                await start_producer(producer)
            except KafkaError as exc:
                log.warning("usage topic unreachable, retrying in %.1fs: %s", delay_s, exc)
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, 5.0)
                continue
            self._producer = producer
            return

    async def stop(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connecting
        if self._producer is not None:
            await self._producer.stop()

    async def write(self, reporter: str, value: bytes) -> None:
        if self._producer is None:
            raise HttpProblem(
                "usage_unavailable",
                "not connected to the usage topic yet; nothing was written -- send it again",
                status_code=503,
            )
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._producer.send_and_wait(USAGE.name, value, key=reporter.encode())
        except (KafkaError, TimeoutError) as exc:
            raise HttpProblem(
                "usage_unavailable",
                f"the usage topic did not take the report ({type(exc).__name__}); "
                "send it again (a use id sent twice counts once)",
                status_code=503,
            ) from exc


def check_uses(uses: Sequence[Use], taxonomy: Taxonomy, now: datetime, horizon: timedelta) -> None:
    """Every purpose known, every use between the horizon and now (with the skew);
    ``Invalid`` naming every use at fault otherwise."""
    problems: list[FieldProblem] = []
    for index, use in enumerate(uses):
        where: list[str | int] = ["body", "uses", index]
        if not taxonomy.knows(use.purpose):
            problems.append(
                FieldProblem(
                    loc=[*where, "purpose"],
                    msg=f"unknown purpose {use.purpose!r}",
                    type="unknown_purpose",
                )
            )
        if use.happened_at > now + FUTURE_SKEW:
            problems.append(
                FieldProblem(
                    loc=[*where, "happened_at"],
                    msg=f"{use.happened_at.isoformat()} is in the future",
                    type="in_the_future",
                )
            )
        elif use.happened_at < now - horizon:
            problems.append(
                FieldProblem(
                    loc=[*where, "happened_at"],
                    msg=f"{use.happened_at.isoformat()} is older than the reporting horizon "
                    f"({horizon.days} days): too late to be metered",
                    type="too_late",
                )
            )
    if problems:
        raise Invalid(problems)


@dataclass(frozen=True, slots=True)
class Intake:
    """What the usage routes need (the app keeps one in its state)."""

    log: UsageLog
    taxonomy: Taxonomy
    horizon: timedelta


async def _intake(request: Request) -> Intake:
    intake: Intake = request.app.state.usage
    return intake


Intakes = Annotated[Intake, Depends(_intake)]
router = APIRouter(tags=["usage"], responses=responses(400, 401, 403, 413, 422, 503))


@router.post(
    "/v1/usage",
    status_code=202,
    response_model=ReportAccepted,
    openapi_extra=body_rules(recent("happened_at", "uses", USAGE_HORIZON_S)),
)
async def report_usage(body: UsageRequest, principal: Caller, intake: Intakes) -> JSONResponse:
    """Report AI uses (service tokens): 202 once the usage topic holds the report."""
    reporter = services_only(principal)
    now = datetime.now(UTC)
    check_uses(body.uses, intake.taxonomy, now, intake.horizon)
    report = UsageReported(
        report_id=body.report_id or secrets.token_hex(16),
        reporter=reporter.subject,
        uses=tuple(body.uses),
        recorded_at=now,
    )
    await intake.log.write(reporter.subject, report.model_dump_json().encode())
    return _accepted(report.report_id, len(report.uses))


@router.post(
    "/v1/attributions",
    status_code=202,
    response_model=ReportAccepted,
    openapi_extra=body_rules(sums_to_one("shares", "share", per=("isrc", "side"))),
)
async def report_attribution(
    body: AttributionRequest, principal: Caller, intake: Intakes
) -> JSONResponse:
    """Report one generated output's training works and their shares (service tokens);
    shares that do not sum to 1 per side are refused with the sums."""
    reporter = services_only(principal)
    if not intake.taxonomy.knows(body.purpose):
        raise Invalid(
            [
                FieldProblem(
                    loc=["body", "purpose"],
                    msg=f"unknown purpose {body.purpose!r}",
                    type="unknown_purpose",
                )
            ]
        )
    report = AttributionReported(
        report_id=body.report_id or secrets.token_hex(16),
        reporter=reporter.subject,
        output_id=body.output_id,
        purpose=body.purpose,
        period=body.period,
        shares=tuple(body.shares),
        recorded_at=datetime.now(UTC),
    )
    await intake.log.write(reporter.subject, report.model_dump_json().encode())
    return _accepted(report.report_id, len(report.shares))


def _accepted(report_id: str, count: int) -> JSONResponse:
    body = ReportAccepted(report_id=report_id, accepted=count).model_dump(mode="json")
    return JSONResponse(body, status_code=202)

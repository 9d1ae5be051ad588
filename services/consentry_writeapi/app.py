"""The write API's routes; one composition root in ``create_app``."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import make_asgi_app
from redis.asyncio import Redis

from consentry_domain import Entry, SlotKey, Taxonomy, load_taxonomy
from consentry_events import (
    CATALOGUE,
    CONSENT_CHANGES,
    ConsentChanged,
    Scope,
    TrackChanged,
    encode,
    partition_key,
)
from consentry_events.models import PartyId
from consentry_events.tokens import Token
from consentry_state.keys import WATERMARKS, watermark_field
from consentry_state.reader import party_slots
from consentry_writeapi import metrics
from consentry_writeapi.history import Recorded, party_history
from consentry_writeapi.publisher import KafkaPublisher, Publisher, PublishError
from consentry_writeapi.schemas import (
    Accepted,
    DecisionOut,
    DecisionRequest,
    DecisionsOut,
    TrackRequest,
)
from consentry_writeapi.settings import WriteSettings


def _unknown_purpose(purpose: str, taxonomy: Taxonomy) -> JSONResponse:
    known = ", ".join(sorted(taxonomy.defaults))
    return JSONResponse(
        {
            "detail": [
                {
                    "loc": ["body", "purpose"],
                    "msg": f"unknown purpose {purpose!r}; known purposes: {known}",
                    "type": "unknown_purpose",
                }
            ]
        },
        status_code=422,
    )


def _not_acknowledged(exc: PublishError) -> JSONResponse:
    return JSONResponse({"detail": str(exc), "outcome": exc.outcome.value}, status_code=503)


async def _publish(
    publisher: Publisher, topic: str, event: ConsentChanged | TrackChanged
) -> Accepted:
    log = "consent" if isinstance(event, ConsentChanged) else "catalogue"
    started = time.perf_counter()
    try:
        receipt = await publisher.publish(topic, partition_key(event), encode(event))
    except PublishError as exc:
        metrics.BROKER_ERRORS.labels(outcome=exc.outcome.value).inc()
        raise
    metrics.PRODUCE_SECONDS.labels(log=log).observe(time.perf_counter() - started)
    return Accepted(
        token=str(Token(receipt.topic, receipt.partition, receipt.offset)),
        topic=receipt.topic,
        partition=receipt.partition,
        offset=receipt.offset,
        accepted_at=datetime.now(UTC),
        decision_id=event.decision_id if isinstance(event, ConsentChanged) else None,
    )


def _ms_to_datetime(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


def _current(key: SlotKey, entry: Entry, in_force: bool) -> DecisionOut:
    return DecisionOut(
        decision_id=entry.decision_id,
        party=key.party,
        scope=key.scope,
        upc=key.work if key.scope is Scope.RELEASE else None,
        isrc=key.work if key.scope is Scope.TRACK else None,
        purpose=key.purpose,
        choice=entry.choice,
        effective_from=_ms_to_datetime(entry.effective_from_ms),
        expires_at=_ms_to_datetime(entry.expires_at_ms),
        offset=entry.offset,
        in_force=in_force,
    )


def _historic(recorded: Recorded, applied: bool) -> DecisionOut:
    event = recorded.event
    return DecisionOut(
        decision_id=str(event.decision_id),
        party=event.party,
        scope=event.scope,
        upc=event.upc,
        isrc=event.isrc,
        purpose=event.purpose,
        choice=event.choice,
        effective_from=event.effective_from,
        expires_at=event.expires_at,
        partition=recorded.partition,
        offset=recorded.offset,
        recorded_at=event.recorded_at,
        applied=applied,
    )


async def _watermarks(redis: Redis, partitions: set[int]) -> dict[int, int]:
    if not partitions:
        return {}
    ordered = sorted(partitions)
    fields = [watermark_field(CONSENT_CHANGES.name, p) for p in ordered]
    values = await redis.hmget(WATERMARKS, fields)
    return {p: int(v) for p, v in zip(ordered, values, strict=True) if v is not None}


def create_app(settings: WriteSettings, publisher: KafkaPublisher | None = None) -> FastAPI:
    taxonomy = load_taxonomy(settings.purposes_file)
    kafka = publisher or KafkaPublisher(settings.kafka_bootstrap, settings.produce_timeout_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.redis = Redis.from_url(settings.redis_url, socket_timeout=2)
        await kafka.start()
        yield
        await kafka.stop()
        await app.state.redis.aclose()

    app = FastAPI(title="Consentry write API", version="1", lifespan=lifespan)
    app.mount("/metrics", make_asgi_app())

    @app.middleware("http")
    async def count_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        if template != "/metrics":
            metrics.REQUESTS.labels(route=template, status=str(response.status_code)).inc()
        return response

    @app.post("/v1/decisions", status_code=202, response_model=Accepted)
    async def record_decision(body: DecisionRequest) -> Accepted | JSONResponse:
        """Record a party's consent decision; 202 once Kafka acknowledged it (acks=all)."""
        if not taxonomy.knows(body.purpose):
            return _unknown_purpose(body.purpose, taxonomy)
        event = ConsentChanged(
            decision_id=uuid.uuid4(), recorded_at=datetime.now(UTC), **body.model_dump()
        )
        try:
            return await _publish(kafka, CONSENT_CHANGES.name, event)
        except PublishError as exc:
            return _not_acknowledged(exc)

    @app.post("/v1/tracks", status_code=202, response_model=Accepted)
    async def register_track(body: TrackRequest) -> Accepted | JSONResponse:
        """Add, update or retire a track and its rights holders (the whole record)."""
        event = TrackChanged(
            isrc=body.isrc,
            upc=body.upc,
            parties=tuple(body.parties),
            status=body.status,
            recorded_at=datetime.now(UTC),
        )
        try:
            return await _publish(kafka, CATALOGUE.name, event)
        except PublishError as exc:
            return _not_acknowledged(exc)

    @app.get("/v1/parties/{party}/decisions", response_model=DecisionsOut)
    async def current_decisions(request: Request, party: PartyId) -> DecisionsOut:
        """The party's decisions as the checks see them now (materialised in Redis)."""
        slots = await party_slots(request.app.state.redis, party)
        now = time.time_ns() // 1_000_000
        decisions = [
            _current(key, entry, entry.in_force(now))
            for key, slot in sorted(slots.items())
            for entry in slot.entries
        ]
        return DecisionsOut(party=party, decisions=decisions)

    @app.get("/v1/parties/{party}/history", response_model=DecisionsOut)
    async def decision_history(request: Request, party: PartyId) -> DecisionsOut:
        """Every decision the party ever recorded, from Kafka, oldest first."""
        recorded = await party_history(settings.kafka_bootstrap, party)
        marks = await _watermarks(request.app.state.redis, {r.partition for r in recorded})
        return DecisionsOut(
            party=party,
            decisions=[_historic(r, marks.get(r.partition, -1) >= r.offset) for r in recorded],
        )

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Alive: the process answers."""
        return {"status": "alive"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        """Ready: connected to Kafka."""
        if not kafka.started:
            return JSONResponse({"status": "starting"}, status_code=503)
        return JSONResponse({"status": "ready"})

    return app

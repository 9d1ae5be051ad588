"""The write API's routes; one composition root in ``create_app``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from consentry_domain import Taxonomy, load_taxonomy
from consentry_events import (
    CATALOGUE,
    CONSENT_CHANGES,
    ConsentChanged,
    TrackChanged,
    encode,
    partition_key,
)
from consentry_writeapi.publisher import KafkaPublisher, Publisher, PublishError
from consentry_writeapi.schemas import Accepted, DecisionRequest, TrackRequest
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
    receipt = await publisher.publish(topic, partition_key(event), encode(event))
    return Accepted(
        token=f"{receipt.partition}:{receipt.offset}",
        topic=receipt.topic,
        partition=receipt.partition,
        offset=receipt.offset,
        accepted_at=datetime.now(UTC),
        decision_id=event.decision_id if isinstance(event, ConsentChanged) else None,
    )


def create_app(settings: WriteSettings, publisher: KafkaPublisher | None = None) -> FastAPI:
    taxonomy = load_taxonomy(settings.purposes_file)
    kafka = publisher or KafkaPublisher(settings.kafka_bootstrap, settings.produce_timeout_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await kafka.start()
        yield
        await kafka.stop()

    app = FastAPI(title="Consentry write API", version="1", lifespan=lifespan)

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

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Alive: the process answers."""
        return {"status": "alive"}

    @app.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        """Ready: connected to Kafka."""
        if not kafka.started:
            return JSONResponse({"status": "starting"}, status_code=503)
        return JSONResponse({"status": "ready"})

    return app

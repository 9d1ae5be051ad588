"""The write API's composition root: settings in, an app with its routes out.

Every route but the probes and ``/metrics`` needs a bearer token for ``consentry-write``;
who may do what is ``authorise``'s business, how a party's event is chained and
published is ``recorder``'s, and each resource's routes are a module of ``routes``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import make_asgi_app
from pydantic import BaseModel
from redis.asyncio import Redis
from starlette.types import Scope

from consentry_auth import WRITE_AUDIENCE, KeySet, Verifier
from consentry_domain import load_taxonomy
from consentry_http import Authenticator, HttpProblem, service_app
from consentry_http.inputs import Call
from consentry_http.limits import limiter_for
from consentry_http.observed import Observed
from consentry_kafka import LogEnds
from consentry_writeapi import decide, errors, metrics
from consentry_writeapi.deps import WriteServices
from consentry_writeapi.publisher import KafkaPublisher
from consentry_writeapi.routes import (
    decisions,
    delegations,
    disclosures,
    downstream,
    ern,
    parties,
    tracks,
    usage,
    works,
)
from consentry_writeapi.settings import WriteSettings


class Status(BaseModel):
    status: str


def _counted(scope: Scope, status: int, _: float) -> None:
    """Requests by route template and status (the router, or a fast path, puts the route
    into the scope)."""
    template = getattr(scope.get("route"), "path", "unmatched")
    if template != "/metrics":
        metrics.REQUESTS.labels(route=template, status=str(status)).inc()


def _count(problem: HttpProblem) -> None:
    if problem.status_code == 403:
        metrics.REFUSALS.labels(reason=problem.reason).inc()


async def _fast_decision(call: Call) -> Response:
    s: WriteServices = call.state.services
    return await decide.record_decision(
        call, s.auth, s.taxonomy, s.parties, s.delegations, s.idempotency
    )


def create_app(
    settings: WriteSettings, publisher: KafkaPublisher | None = None, *, fast_paths: bool = True
) -> FastAPI:
    """The service; ``fast_paths=False`` leaves every request to the framework (to
    compare both ways in)."""
    taxonomy = load_taxonomy(settings.purposes_file)
    kafka = publisher or KafkaPublisher(settings.kafka(), settings.produce_timeout_s)
    verifier = Verifier(KeySet(settings.auth_public_key_file), WRITE_AUDIENCE)
    limiter, limits_store = limiter_for(settings.limits_url, settings.rate_limits, "write")
    auth = Authenticator(verifier, metrics.AUTH_FAILURES, limiter)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = Redis.from_url(settings.redis_url, socket_timeout=2)
        store = Redis.from_url(settings.store_url, socket_timeout=2)
        log_ends = LogEnds(settings.kafka(), settings.produce_timeout_s)
        app.state.services = WriteServices.connected(
            settings, taxonomy, kafka, auth, (redis, store), log_ends
        )
        await kafka.start()
        app.state.started = True
        yield
        await kafka.stop()
        await log_ends.close()
        await redis.aclose()
        await store.aclose()
        if limits_store is not None:
            await limits_store.aclose()

    app = service_app(
        "Consentry write API",
        max_body_bytes=settings.max_body_bytes,
        larger_bodies={
            "/v1/tracks/import": tracks.IMPORT_MAX_BYTES,
            "/v1/decisions/many": decisions.MANY_MAX_BYTES,
            "/v1/receipts": downstream.RECEIPTS_MAX_BYTES,
            "/v1/catalogue/ern": ern.ERN_MAX_BYTES,
            "/v1/disclosures": disclosures.STATEMENT_MAX_BYTES,
        },
        purposes=taxonomy.defaults,
        on_problem=_count,
        errors=errors.CONVERTERS,
        fast_paths={("POST", "/v1/decisions"): _fast_decision} if fast_paths else None,
        lifespan=lifespan,
    )
    auth.install(app)
    app.mount("/metrics", make_asgi_app())
    app.add_middleware(Observed, observe=_counted)  # outermost: counts both ways in

    for module in (
        decisions,
        delegations,
        disclosures,
        ern,
        tracks,
        parties,
        downstream,
        works,
        usage,
    ):
        app.include_router(module.router)

    @app.get("/healthz", response_model=Status, tags=["probes"])
    async def healthz() -> Status:
        """Alive: the process answers."""
        return Status(status="alive")

    @app.get(
        "/readyz",
        response_model=Status,
        tags=["probes"],
        responses={503: {"model": Status, "description": "Not connected to Kafka yet."}},
    )
    async def readyz() -> JSONResponse:
        """Ready: connected to Kafka."""
        if not kafka.started:
            return JSONResponse({"status": "starting"}, status_code=503)
        return JSONResponse({"status": "ready"})

    return app


def from_environment() -> FastAPI:
    """The app with its settings from ``CONSENTRY_WRITE_*``: for servers that start
    workers of their own (``--factory``)."""
    return create_app(WriteSettings())

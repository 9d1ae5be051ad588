"""The check service's composition root and routes: the operations are
``consentry_checkapi.checks``'s (same semantics as the SDK: it is the SDK, with its cache,
behind HTTP); the one-track check also has a fast path, the same operation called before
the framework's router (``consentry_http.fast``)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, FastAPI, Path, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import REGISTRY, make_asgi_app
from starlette.types import Scope

from consentry_auth import CHECK_AUDIENCE, KeySet, Principal, Verifier
from consentry_checkapi import checks, metrics
from consentry_checkapi import usage as usage_routes
from consentry_checkapi.checks import answer_json, json_response, services_only
from consentry_checkapi.schemas import (
    FILTER_MAX,
    AnswerOut,
    BatchAnswer,
    BatchCheck,
    CheckQuery,
    FilterAnswer,
    FilterRequest,
    Readiness,
    SignalsOut,
)
from consentry_checkapi.settings import CheckServiceSettings
from consentry_checkapi.usage import USAGE_MAX_BYTES, Intake, UsageLog
from consentry_domain import load_taxonomy
from consentry_events.models import Isrc
from consentry_http import Authenticator, Caller, HttpProblem, responses, service_app
from consentry_http.inputs import Call, documented
from consentry_http.limits import limiter_for
from consentry_http.observed import Observed
from consentry_sdk import ConsentChecker
from consentry_sdk.cache import AnswerCache
from consentry_sdk.checker import redis_for_checks
from consentry_sdk.datasets import DataSets, UnknownPurpose, Unverifiable
from consentry_sdk.invalidation import listen
from consentry_sdk.metrics import HEARTBEAT_AGE, REDIS_UP, CheckerCollector
from consentry_signals.terms import Terms
from consentry_state import StateReader


async def _watch_health(checker: ConsentChecker, every_s: float = 1.0) -> None:
    """Export what the check side can vouch for, also while the materialiser is down."""
    while True:
        health = await checker.health()
        REDIS_UP.set(1 if health.redis_reachable else 0)
        age = health.heartbeat_age_s
        HEARTBEAT_AGE.set(float("inf") if age is None else age)
        await asyncio.sleep(every_s)


async def _service(principal: Caller) -> Principal:
    return services_only(principal)


async def _checker(request: Request) -> ConsentChecker:
    checker: ConsentChecker = request.app.state.checker
    return checker


async def _auth(request: Request) -> Authenticator:
    auth: Authenticator = request.app.state.auth
    return auth


Checker = Annotated[ConsentChecker, Depends(_checker)]
Service = Annotated[Principal, Depends(_service)]
Auth = Annotated[Authenticator, Depends(_auth)]


async def _fast_check(call: Call) -> Response:
    return await checks.check_one(call, call.state.auth, call.state.checker)


def _timed(scope: Scope, _: int, seconds: float) -> None:
    """Each request's server-side time, for the benchmark's server-side figures beside the
    load generator's client-side ones."""
    route = metrics.TIMED_ROUTES.get((scope["method"], scope["path"]), "other")
    metrics.REQUEST_SECONDS.labels(route=route).observe(seconds)


def _count(problem: HttpProblem) -> None:
    if problem.status_code == 403:
        metrics.REFUSALS.labels(reason=problem.reason).inc()


FILTER_BODY_BYTES = FILTER_MAX * 20
"""100,000 ISRCs as a JSON list: ~1.6 MB."""


def create_app(settings: CheckServiceSettings, *, fast_paths: bool = True) -> FastAPI:
    """The service; ``fast_paths=False`` leaves every request to the framework (to
    compare both ways in)."""
    taxonomy = load_taxonomy(settings.purposes_file)
    terms = Terms.load(settings.signals_terms_file)
    limiter, limits_store = limiter_for(settings.limits_url, settings.rate_limits, "check")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = redis_for_checks(settings)
        cache = AnswerCache(settings.cache_bound_s) if settings.cache_bound_s > 0 else None
        listener = asyncio.create_task(listen(settings.redis_url, cache)) if cache else None
        checker = ConsentChecker(
            StateReader(redis),
            taxonomy,
            heartbeat_bound_ms=int(settings.heartbeat_bound_s * 1000),
            cache=cache,
            token_wait_s=settings.token_wait_s,
        )
        app.state.checker = checker
        app.state.data_sets = DataSets(
            StateReader(redis), taxonomy, heartbeat_bound_ms=int(settings.heartbeat_bound_s * 1000)
        )
        collector = CheckerCollector(checker)
        REGISTRY.register(collector)
        watcher = asyncio.create_task(_watch_health(checker))
        usage = UsageLog(settings.kafka())
        usage.start()
        app.state.usage = Intake(usage, taxonomy, timedelta(seconds=settings.usage_horizon_s))
        app.state.started = True
        yield
        await usage.stop()
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        REGISTRY.unregister(collector)
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        await redis.aclose()
        if limits_store is not None:
            await limits_store.aclose()

    app = service_app(
        "Consentry check service",
        max_body_bytes=settings.max_body_bytes,
        larger_bodies={"/v1/filter": FILTER_BODY_BYTES, "/v1/usage": USAGE_MAX_BYTES},
        purposes=taxonomy.defaults,
        on_problem=_count,
        fast_paths={("GET", "/v1/check"): _fast_check} if fast_paths else None,
        lifespan=lifespan,
    )
    verifier = Verifier(KeySet(settings.auth_public_key_file), CHECK_AUDIENCE)
    Authenticator(verifier, metrics.AUTH_FAILURES, limiter).install(app)
    app.mount("/metrics", make_asgi_app())
    app.add_middleware(Observed, observe=_timed)  # added last: outermost, both ways in
    app.include_router(usage_routes.router)

    @app.get(
        "/v1/check",
        response_model=AnswerOut,
        tags=["checks"],
        responses=responses(401, 403, 422),
        openapi_extra=documented(query=CheckQuery),
    )
    async def check_one(request: Request, auth: Auth, checker: Checker) -> Response:
        """May this track be used for this purpose now? Deny when unverifiable."""
        return await checks.check_one(Call.of(request), auth, checker)

    @app.post(
        "/v1/check",
        response_model=BatchAnswer,
        tags=["checks"],
        responses=responses(400, 401, 403, 413, 422),
    )
    async def check_batch(_: Service, checker: Checker, body: BatchCheck) -> Response:
        """Answers for up to 1,000 tracks from at most one Redis round trip."""
        answers = await checker.check_many(body.isrcs, body.purpose, token=body.token)
        return json_response({"answers": [answer_json(answers[isrc]) for isrc in body.isrcs]})

    @app.post(
        "/v1/filter",
        response_model=FilterAnswer,
        tags=["data sets"],
        responses=responses(400, 401, 403, 413, 422, 503),
    )
    async def filter_data_set(_: Service, request: Request, body: FilterRequest) -> Response:
        """The ISRCs of a data set allowed for the purpose (up to 100,000 a request; the
        SDK's and the ``consentry filter`` command's filter has no limit). 503 when consent
        cannot be verified: never a list of allowed tracks then."""
        sets: DataSets = request.app.state.data_sets
        allowed: list[str] = []
        disclosed: dict[str, str] = {}
        fresh = None
        try:
            async for page in sets.filter(body.isrcs, body.purpose):
                allowed += page.isrcs
                disclosed |= page.disclosures
                fresh = page.fresh_until_ms if fresh is None else min(fresh, page.fresh_until_ms)
        except UnknownPurpose as exc:
            raise HttpProblem("unknown_purpose", str(exc), status_code=422) from exc
        except Unverifiable as exc:
            raise HttpProblem("unverifiable", str(exc), status_code=503) from exc
        if fresh is None:  # at least one ISRC, so at least one page: never here
            raise HttpProblem("unverifiable", "no state was read", status_code=503)
        moment = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(fresh / 1000))
        return json_response(
            {
                "allowed": allowed,
                "disclosure": disclosed,
                "checked": len(body.isrcs),
                "fresh_until": f"{moment}Z",
            }
        )

    @app.get(
        "/v1/signals/{isrc}",
        response_model=SignalsOut,
        tags=["reservations"],
        responses=responses(401, 403, 422),
    )
    async def track_signals(
        isrc: Annotated[Isrc, Path(description="The track's ISRC.")], _: Service, checker: Checker
    ) -> Response:
        """The track's AI reservations -- W3C TDMRep, IETF Content-Usage, the CAWG
        assertion -- from its consent now (most restrictive across its rights holders),
        with the response headers a media server can copy onto its files and pages."""
        return await checks.track_signals(isrc, checker, terms)

    @app.get("/healthz", response_model=Readiness, tags=["probes"])
    async def healthz() -> dict[str, str]:
        """Alive: the process answers (it may still be answering 'unverifiable')."""
        return {"status": "alive"}

    @app.get(
        "/readyz",
        response_model=Readiness,
        tags=["probes"],
        responses={503: {"model": Readiness, "description": "Answers cannot be verified."}},
    )
    async def readyz(checker: Checker) -> JSONResponse:
        """Ready only when answers can be verified; the body says which part is missing."""
        health = await checker.health()
        body = {
            "status": "ready" if health.verifiable else "unverifiable",
            "redis": "reachable" if health.redis_reachable else "unreachable",
            "materialiser_heartbeat_age_s": health.heartbeat_age_s,
            "materialiser": "fresh" if health.heartbeat_fresh else "stale or absent",
            "cache": "subscribed" if health.cache_live else "off",
        }
        return JSONResponse(body, status_code=200 if health.verifiable else 503)

    return app


def from_environment() -> FastAPI:
    """The app with its settings from ``CONSENTRY_CHECK_*``: for servers that start
    workers of their own (``--factory``)."""
    return create_app(CheckServiceSettings())

"""The check service's routes; one composition root in ``create_app``.

Same semantics as the SDK (it is the SDK, with its cache, behind HTTP). Responses are
serialised with orjson straight from the domain answer: the response models document
the shape in OpenAPI without costing a validation per request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from prometheus_client import REGISTRY, make_asgi_app

from consentry_auth import CHECK_AUDIENCE, Principal, PrincipalKind, Verifier
from consentry_auth.web import BearerAuth, Caller, Refused
from consentry_checkapi import metrics
from consentry_checkapi.schemas import AnswerOut, BatchAnswer, BatchCheck
from consentry_checkapi.settings import CheckServiceSettings
from consentry_domain import Answer, load_taxonomy
from consentry_events.models import Isrc, PurposePath
from consentry_sdk import ConsentChecker
from consentry_sdk.cache import AnswerCache
from consentry_sdk.checker import redis_for_checks
from consentry_sdk.invalidation import listen
from consentry_sdk.metrics import HEARTBEAT_AGE, REDIS_UP, CheckerCollector
from consentry_state import StateReader


def answer_json(answer: Answer) -> dict[str, Any]:
    return {
        "isrc": answer.isrc,
        "purpose": answer.purpose,
        "answer": answer.verdict.value,
        "reasons": [
            {
                "basis": r.basis.value,
                "verdict": r.verdict.value,
                "summary": r.describe(),
                "party": r.party,
                "decision_id": r.decision_id,
                "scope": None if r.scope is None else r.scope.value,
                "work": r.work,
                "purpose": r.purpose,
            }
            for r in answer.reasons
        ],
    }


def _json(content: object, status_code: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code, media_type="application/json")


def _bad_token(message: str) -> Response:
    detail = [{"loc": ["token"], "msg": message, "type": "value_error"}]
    return _json({"detail": detail}, 422)


async def _watch_health(checker: ConsentChecker, every_s: float = 1.0) -> None:
    """Export what the check side can vouch for, also while the materialiser is down."""
    while True:
        health = await checker.health()
        REDIS_UP.set(1 if health.redis_reachable else 0)
        age = health.heartbeat_age_s
        HEARTBEAT_AGE.set(float("inf") if age is None else age)
        await asyncio.sleep(every_s)


async def _service(principal: Caller) -> Principal:
    if principal.kind not in (PrincipalKind.SERVICE, PrincipalKind.ADMIN):
        raise Refused(
            "services_only",
            f"{principal.subject} may not run checks (service or admin tokens only)",
        )
    return principal


def create_app(settings: CheckServiceSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = redis_for_checks(settings)
        cache = AnswerCache(settings.cache_bound_s) if settings.cache_bound_s > 0 else None
        listener = asyncio.create_task(listen(settings.redis_url, cache)) if cache else None
        app.state.checker = ConsentChecker(
            StateReader(redis),
            load_taxonomy(settings.purposes_file),
            heartbeat_bound_ms=int(settings.heartbeat_bound_s * 1000),
            cache=cache,
            token_wait_s=settings.token_wait_s,
        )
        collector = CheckerCollector(app.state.checker)
        REGISTRY.register(collector)
        watcher = asyncio.create_task(_watch_health(app.state.checker))
        yield
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        REGISTRY.unregister(collector)
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        await redis.aclose()

    app = FastAPI(
        title="Consentry check service",
        version="1",
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
    )
    app.state.auth = BearerAuth(
        Verifier(settings.auth_public_key_file.read_bytes(), CHECK_AUDIENCE),
        metrics.AUTH_FAILURES,
    )
    app.mount("/metrics", make_asgi_app())

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        metrics.REFUSALS.labels(reason=exc.reason).inc()
        return await http_exception_handler(request, exc)

    def checker(request: Request) -> ConsentChecker:
        found: ConsentChecker = request.app.state.checker
        return found

    @app.get("/v1/check", response_model=AnswerOut, dependencies=[Depends(_service)])
    async def check_one(
        request: Request,
        isrc: Annotated[Isrc, Query(description="The track's ISRC.")],
        purpose: Annotated[PurposePath, Query(description="Dotted AI purpose, e.g. ai.training.")],
        token: Annotated[
            str | None, Query(description="Consistency token from the write API.")
        ] = None,
    ) -> Response:
        """May this track be used for this purpose now? Deny when unverifiable."""
        try:
            answer = await checker(request).check(isrc, purpose, token=token)
        except ValueError as exc:
            return _bad_token(str(exc))
        return _json(answer_json(answer))

    @app.post("/v1/check", response_model=BatchAnswer, dependencies=[Depends(_service)])
    async def check_batch(request: Request, body: BatchCheck) -> Response:
        """Answers for up to 1,000 tracks from at most one Redis round trip."""
        try:
            answers = await checker(request).check_many(body.isrcs, body.purpose, token=body.token)
        except ValueError as exc:
            return _bad_token(str(exc))
        return _json({"answers": [answer_json(answers[isrc]) for isrc in body.isrcs]})

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Alive: the process answers (it may still be answering 'unverifiable')."""
        return {"status": "alive"}

    @app.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        """Ready only when answers can be verified; the body says which part is missing."""
        health = await checker(request).health()
        body = {
            "status": "ready" if health.verifiable else "unverifiable",
            "redis": "reachable" if health.redis_reachable else "unreachable",
            "materialiser_heartbeat_age_s": health.heartbeat_age_s,
            "materialiser": "fresh" if health.heartbeat_fresh else "stale or absent",
            "cache": "subscribed" if health.cache_live else "off",
        }
        return JSONResponse(body, status_code=200 if health.verifiable else 503)

    return app

"""The check service's routes; one composition root in ``create_app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse

from consentry_checkapi.schemas import AnswerOut, BatchAnswer, BatchCheck
from consentry_domain import load_taxonomy
from consentry_events.models import Isrc, PurposePath
from consentry_sdk import CheckSettings, ConsentChecker
from consentry_sdk.checker import redis_for_checks
from consentry_state import StateReader


def create_app(settings: CheckSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = redis_for_checks(settings)
        app.state.redis = redis
        app.state.checker = ConsentChecker(
            StateReader(redis),
            load_taxonomy(settings.purposes_file),
            heartbeat_bound_ms=int(settings.heartbeat_bound_s * 1000),
        )
        yield
        await redis.aclose()

    app = FastAPI(title="Consentry check service", version="1", lifespan=lifespan)

    def checker(request: Request) -> ConsentChecker:
        found: ConsentChecker = request.app.state.checker
        return found

    @app.get("/v1/check")
    async def check_one(
        request: Request,
        isrc: Annotated[Isrc, Query(description="The track's ISRC.")],
        purpose: Annotated[PurposePath, Query(description="Dotted AI purpose, e.g. ai.training.")],
    ) -> AnswerOut:
        """May this track be used for this purpose now? Deny when unverifiable."""
        return AnswerOut.of(await checker(request).check(isrc, purpose))

    @app.post("/v1/check")
    async def check_batch(request: Request, body: BatchCheck) -> BatchAnswer:
        """Answers for up to 1,000 tracks from one Redis round trip."""
        answers = await checker(request).check_many(body.isrcs, body.purpose)
        return BatchAnswer(answers=[AnswerOut.of(answers[isrc]) for isrc in body.isrcs])

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Alive: the process answers."""
        return {"status": "alive"}

    @app.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        """Ready: Redis answers and the materialiser's heartbeat is within the bound."""
        if not await checker(request).verifiable():
            return JSONResponse({"status": "unverifiable"}, status_code=503)
        return JSONResponse({"status": "ready"})

    return app

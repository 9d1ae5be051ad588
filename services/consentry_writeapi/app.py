"""The write API's routes; one composition root in ``create_app``.

Every route but the probes and ``/metrics`` needs a bearer token for ``consentry-write``;
who may do what is ``authorise``'s business, how a party's event is chained and
published is ``recorder``'s.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import FastAPI, Header, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from prometheus_client import make_asgi_app
from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import RedisError

from consentry_auth import WRITE_AUDIENCE, Principal, Verifier
from consentry_auth.web import BearerAuth, Caller, Refused
from consentry_domain import Entry, SlotKey, Taxonomy, load_taxonomy
from consentry_events import (
    CATALOGUE,
    CONSENT_CHANGES,
    ConsentChanged,
    DelegationChanged,
    Scope,
    TrackChanged,
    encode,
    partition_key,
)
from consentry_events.models import PartyId
from consentry_events.tokens import Token
from consentry_state import keys
from consentry_state.keys import WATERMARKS, watermark_field
from consentry_state.reader import party_slots
from consentry_writeapi import metrics
from consentry_writeapi.authorise import (
    Grant,
    may_decide,
    may_delegate,
    may_read,
    may_register_tracks,
)
from consentry_writeapi.history import Recorded, party_records, verify_chain
from consentry_writeapi.idempotency import Attempt, IdempotencyStore, State, fingerprint
from consentry_writeapi.publisher import KafkaPublisher, Publisher, PublishError, Receipt
from consentry_writeapi.recorder import IdempotencyConflict, InProgress, PartyLog, Written
from consentry_writeapi.schemas import (
    Accepted,
    BrokenLinkOut,
    ChainOut,
    DecisionOut,
    DecisionRequest,
    DecisionsOut,
    DelegationOut,
    DelegationRequest,
    DelegationsOut,
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
    metrics.BROKER_ERRORS.labels(outcome=exc.outcome.value).inc()
    return JSONResponse({"detail": str(exc), "outcome": exc.outcome.value}, status_code=503)


def _written(written: Written) -> JSONResponse | Accepted:
    if not written.replayed:
        return written.accepted
    return JSONResponse(
        written.accepted.model_dump(mode="json"),
        status_code=202,
        headers={"Idempotent-Replayed": "true"},
    )


async def _grants(redis: Redis, party: str) -> list[Grant]:
    raw: dict[bytes, bytes] = await redis.hgetall(keys.delegations_key(party))  # type: ignore[assignment]
    grants = []
    for field, value in raw.items():
        if value.endswith(b"|grant"):
            delegate, purpose = field.decode().split("|", 1)
            grants.append(Grant(delegate, purpose))
    return grants


class TimedPublisher:
    """Times acknowledged produces per log, for the produce-latency histogram."""

    def __init__(self, inner: Publisher) -> None:
        self._inner = inner

    async def publish(self, topic: str, key: bytes, value: bytes) -> Receipt:
        started = time.perf_counter()
        receipt = await self._inner.publish(topic, key, value)
        log = "consent" if topic == CONSENT_CHANGES.name else "catalogue"
        metrics.PRODUCE_SECONDS.labels(log=log).observe(time.perf_counter() - started)
        return receipt


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


def _historic(recorded: Recorded, event: ConsentChanged, applied: bool) -> DecisionOut:
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
        actor=event.actor,
        authority=event.authority,
        prev_hash=event.prev_hash,
    )


async def _watermarks(redis: Redis, partitions: set[int]) -> dict[int, int]:
    if not partitions:
        return {}
    ordered = sorted(partitions)
    fields = [watermark_field(CONSENT_CHANGES.name, p) for p in ordered]
    values = await redis.hmget(WATERMARKS, fields)
    return {p: int(v) for p, v in zip(ordered, values, strict=True) if v is not None}


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Retry with the same key: the first answer comes back, no second event.",
    ),
]


def create_app(settings: WriteSettings, publisher: KafkaPublisher | None = None) -> FastAPI:
    taxonomy = load_taxonomy(settings.purposes_file)
    kafka = publisher or KafkaPublisher(settings.kafka(), settings.produce_timeout_s)
    verifier = Verifier(settings.auth_public_key_file.read_bytes(), WRITE_AUDIENCE)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = Redis.from_url(settings.redis_url, socket_timeout=2)
        app.state.redis = redis
        app.state.idempotency = IdempotencyStore(redis, settings.idempotency_ttl_s)
        app.state.parties = PartyLog(
            redis,
            TimedPublisher(kafka),
            settings.kafka(),
            app.state.idempotency,
            produce_timeout_s=settings.produce_timeout_s,
            settle_margin_s=settings.settle_margin_s,
        )
        await kafka.start()
        yield
        await kafka.stop()
        await redis.aclose()

    app = FastAPI(
        title="Consentry write API",
        version="1",
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
    )
    app.state.auth = BearerAuth(verifier, metrics.AUTH_FAILURES)
    app.mount("/metrics", make_asgi_app())

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        metrics.REFUSALS.labels(reason=exc.reason).inc()
        return await http_exception_handler(request, exc)

    @app.exception_handler(PublishError)
    async def not_written(request: Request, exc: PublishError) -> Response:
        return _not_acknowledged(exc)

    @app.exception_handler(IdempotencyConflict)
    async def key_reused(request: Request, exc: IdempotencyConflict) -> Response:
        detail = "this Idempotency-Key was first used for a different request"
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(InProgress)
    async def in_progress(request: Request, exc: InProgress) -> Response:
        detail = "a request with this Idempotency-Key is still being written; retry shortly"
        return JSONResponse({"detail": detail}, status_code=409)

    @app.exception_handler(RedisError)
    async def state_unreachable(request: Request, exc: RedisError) -> Response:
        detail = f"the consent state is unreachable ({type(exc).__name__}); nothing was changed"
        return JSONResponse({"detail": detail}, status_code=503)

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

    def attempt(
        principal: Principal, key: str | None, route: str, body: BaseModel
    ) -> Attempt | None:
        if key is None:
            return None
        store: IdempotencyStore = app.state.idempotency
        return store.attempt(
            principal.subject, key, fingerprint(route, body.model_dump(mode="json"))
        )

    @app.post("/v1/decisions", status_code=202, response_model=Accepted)
    async def record_decision(
        request: Request, body: DecisionRequest, principal: Caller, key: IdempotencyKey = None
    ) -> Accepted | JSONResponse:
        """Record a party's consent decision; 202 once Kafka acknowledged it (acks=all).

        A party decides for itself; a delegate for the purposes delegated to it; an admin
        for anyone, marked ``authority: admin`` in the log."""
        if not taxonomy.knows(body.purpose):
            return _unknown_purpose(body.purpose, taxonomy)
        grants = await _grants(request.app.state.redis, body.party)
        authority = may_decide(principal, body.party, body.purpose, grants)

        def make(event_id: uuid.UUID, prev_hash: str | None) -> ConsentChanged:
            return ConsentChanged(
                decision_id=event_id,
                recorded_at=datetime.now(UTC),
                actor=principal.subject,
                authority=authority,
                prev_hash=prev_hash,
                **body.model_dump(),
            )

        parties: PartyLog = request.app.state.parties
        written = await parties.append(body.party, make, attempt(principal, key, "decisions", body))
        return _written(written)

    @app.post("/v1/delegations", status_code=202, response_model=Accepted)
    async def record_delegation(
        request: Request, body: DelegationRequest, principal: Caller, key: IdempotencyKey = None
    ) -> Accepted | JSONResponse:
        """Grant (or revoke) another party the right to decide a purpose for you."""
        if not taxonomy.knows(body.purpose):
            return _unknown_purpose(body.purpose, taxonomy)
        if body.delegate == body.party:
            return JSONResponse(
                {
                    "detail": [
                        {
                            "loc": ["body", "delegate"],
                            "msg": "a party cannot delegate to itself",
                            "type": "value_error",
                        }
                    ]
                },
                status_code=422,
            )
        authority = may_delegate(principal, body.party)

        def make(event_id: uuid.UUID, prev_hash: str | None) -> DelegationChanged:
            return DelegationChanged(
                delegation_id=event_id,
                recorded_at=datetime.now(UTC),
                actor=principal.subject,
                authority=authority,
                prev_hash=prev_hash,
                **body.model_dump(),
            )

        parties: PartyLog = request.app.state.parties
        written = await parties.append(
            body.party, make, attempt(principal, key, "delegations", body)
        )
        return _written(written)

    @app.post("/v1/tracks", status_code=202, response_model=Accepted)
    async def register_track(
        request: Request, body: TrackRequest, principal: Caller, key: IdempotencyKey = None
    ) -> Accepted | JSONResponse:
        """Add, update or retire a track and its rights holders (the whole record).

        Catalogue and admin tokens only. A track record is an upsert, so a retry after
        an unknown outcome writes it again to the same effect."""
        may_register_tracks(principal)
        event = TrackChanged(
            isrc=body.isrc,
            upc=body.upc,
            parties=tuple(body.parties),
            status=body.status,
            recorded_at=datetime.now(UTC),
            actor=principal.subject,
        )
        handle = attempt(principal, key, "tracks", body)
        if handle is not None:
            prior = await handle.begin(str(uuid.uuid4()))
            if prior is not None:
                if prior.fingerprint != handle.fingerprint:
                    raise IdempotencyConflict
                if prior.state is State.DONE and prior.response is not None:
                    return _written(Written(Accepted.model_validate(prior.response), True))
        try:
            receipt = await TimedPublisher(kafka).publish(
                CATALOGUE.name, partition_key(event), encode(event)
            )
        except PublishError:
            if handle is not None:
                await handle.forget()
            raise
        accepted = Accepted(
            token=str(Token(receipt.topic, receipt.partition, receipt.offset)),
            topic=receipt.topic,
            partition=receipt.partition,
            offset=receipt.offset,
            accepted_at=datetime.now(UTC),
        )
        if handle is not None:
            await handle.finish("", accepted.model_dump(mode="json"))
        return accepted

    async def readable(request: Request, principal: Principal, party: str) -> None:
        may_read(principal, party, await _grants(request.app.state.redis, party))

    @app.get("/v1/parties/{party}/decisions", response_model=DecisionsOut)
    async def current_decisions(
        request: Request, party: PartyId, principal: Caller
    ) -> DecisionsOut:
        """The party's decisions as the checks see them now (materialised in Redis)."""
        await readable(request, principal, party)
        slots = await party_slots(request.app.state.redis, party)
        now = time.time_ns() // 1_000_000
        decisions = [
            _current(key, entry, entry.in_force(now))
            for key, slot in sorted(slots.items())
            for entry in slot.entries
        ]
        return DecisionsOut(party=party, decisions=decisions)

    @app.get("/v1/parties/{party}/history", response_model=DecisionsOut)
    async def decision_history(request: Request, party: PartyId, principal: Caller) -> DecisionsOut:
        """Every decision the party ever recorded, from Kafka, oldest first: who, when, how."""
        await readable(request, principal, party)
        recorded = await party_records(settings.kafka(), party)
        marks = await _watermarks(request.app.state.redis, {r.partition for r in recorded})
        return DecisionsOut(
            party=party,
            decisions=[
                _historic(r, r.event, marks.get(r.partition, -1) >= r.offset)
                for r in recorded
                if isinstance(r.event, ConsentChanged)
            ],
        )

    @app.get("/v1/parties/{party}/delegations", response_model=DelegationsOut)
    async def delegations(request: Request, party: PartyId, principal: Caller) -> DelegationsOut:
        """Whom the party has delegated which purposes to, now."""
        await readable(request, principal, party)
        raw: dict[bytes, bytes] = await request.app.state.redis.hgetall(keys.delegations_key(party))
        found = []
        for field, value in sorted(raw.items()):
            offset, action = value.decode().split("|", 1)
            if action == "grant":
                delegate, purpose = field.decode().split("|", 1)
                found.append(DelegationOut(delegate=delegate, purpose=purpose, offset=int(offset)))
        return DelegationsOut(party=party, delegations=found)

    @app.get("/v1/parties/{party}/chain", response_model=ChainOut)
    async def chain(request: Request, party: PartyId, principal: Caller) -> ChainOut:
        """Verify the party's hash chain end to end from Kafka; name the first broken link."""
        await readable(request, principal, party)
        report = verify_chain(party, await party_records(settings.kafka(), party))
        broken = report.first_broken
        return ChainOut(
            party=party,
            events=report.events,
            intact=broken is None,
            head=report.head,
            first_broken=None if broken is None else BrokenLinkOut(**asdict(broken)),
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

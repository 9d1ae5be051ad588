"""Per-principal rate limits, shared by every instance of a service.

Each principal has a token bucket in the enforcer's store (``consentry_state.RateBuckets``:
refilled ``per_s`` a second up to ``burst``, by Redis's clock). An instance does not ask
Redis for every request: it takes a lease of tokens (a twentieth of a second's worth, at
least one; one lease at a time per principal, concurrent requests wait for it) and
spends it locally, and once refused it refuses that principal locally until the bucket
has a token again -- so a flood costs the store one call per lease or per refusal, not
one per request, and the limit holds across instances (each may hold at most one lease
the others cannot use). Each service has buckets of its own (``<service>:<subject>``).

A limited request is answered ``429`` with ``Retry-After`` before anything else is done
for it: a limited check is refused, never answered allow. When the store cannot be
reached the request goes through, counted (``consentry_rate_limit_unavailable_total``),
and the store is not asked again for a second (no retries, half a second's timeout):
the limit protects capacity; consent answers do not depend on it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Annotated, Any

from prometheus_client import Counter
from pydantic import BaseModel, Field
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from consentry_http.problems import TooMany
from consentry_state import RateBuckets

log = logging.getLogger(__name__)

LEASE_S = 0.05
"""The share of a second's budget an instance takes from the store at a time."""
WARN_EVERY_S = 60.0
"""How often an instance logs that it cannot reach the limits' store."""
STORE_DOWN_S = 1.0
"""After the store failed to answer, how long requests go through without asking it."""
KEPT = 100_000
"""Principals an instance keeps leases for; past it they are forgotten (and refetched)."""

LIMITED = Counter(
    "consentry_rate_limited_total",
    "Requests refused with 429 because their principal's rate limit was spent.",
    ["kind"],
)
UNAVAILABLE = Counter(
    "consentry_rate_limit_unavailable_total",
    "Requests let through unlimited because the store holding the limits was unreachable.",
)


class RateLimit(BaseModel):
    per_s: Annotated[float, Field(gt=0, description="Requests a second, sustained.")]
    burst: Annotated[int, Field(gt=0, description="Requests at once after a quiet spell.")]


RateLimits = dict[str, RateLimit]
"""By principal kind (``party``, ``service``, ``catalogue``, ``system``, ``admin``, or
``signin`` for the portal's sign-in by client address), or by one principal's whole
subject (``service:ai-dj``), which wins over its kind's."""


def limits_field(defaults: dict[str, tuple[float, int]]) -> Any:
    """The ``rate_limits`` setting of a service, with its defaults."""
    return Field(
        default_factory=lambda: {
            key: RateLimit(per_s=per_s, burst=burst) for key, (per_s, burst) in defaults.items()
        },
        description="Rate limits by principal kind or subject, as JSON: "
        '{"service": {"per_s": 50000, "burst": 100000}, "service:ai-dj": {...}}.',
    )


def limiter_for(
    url: str | None, limits: RateLimits, service: str
) -> tuple[Limiter | None, Redis | None]:
    """``service``'s limiter on the store at ``url`` (None: no limits), and that client
    (closed by the service when it stops). No retries: an unreachable store must cost a
    request half a second at most, once a second at most."""
    if url is None:
        return None, None
    store = Redis.from_url(
        url, socket_timeout=0.5, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )
    return Limiter(RateBuckets(store), limits, service), store


class Limiter:
    """One service's limits (``service`` names its buckets: a principal's checks and its
    writes are limited apart)."""

    def __init__(self, buckets: RateBuckets, limits: RateLimits, service: str) -> None:
        self._buckets = buckets
        self._limits = dict(limits)
        self._service = service
        self._credit: dict[str, int] = {}
        self._refused_until: dict[str, float] = {}
        self._taking: dict[str, asyncio.Future[None]] = {}
        self._store_down_until = 0.0
        self._warned = -WARN_EVERY_S

    def limit_of(self, subject: str, kind: str) -> RateLimit | None:
        return self._limits.get(subject) or self._limits.get(kind)

    async def admit(self, subject: str, kind: str) -> None:
        """Let one request of ``subject`` through, or raise ``TooMany``."""
        limit = self.limit_of(subject, kind)
        if limit is None:
            return
        while True:
            credit = self._credit.get(subject, 0)
            if credit > 0:
                self._credit[subject] = credit - 1
                return
            now = time.monotonic()
            until = self._refused_until.get(subject, 0.0)
            if now < until:
                LIMITED.labels(kind=kind).inc()
                raise TooMany(subject, math.ceil(until - now))
            if now < self._store_down_until:
                UNAVAILABLE.inc()
                return
            taking = self._taking.get(subject)
            if taking is None:  # one lease at a time per principal; the others wait on it
                break
            await asyncio.shield(taking)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._taking[subject] = done
        try:
            await self._lease(subject, kind, limit, now)
        finally:
            del self._taking[subject]
            done.set_result(None)
        self._credit[subject] -= 1

    async def _lease(self, subject: str, kind: str, limit: RateLimit, now: float) -> None:
        """A lease of tokens into the local credit, or the refusal (``TooMany``); with
        the store unreachable, the request goes through and the store is left alone for
        a second."""
        if len(self._credit) > KEPT:
            self._credit.clear()
            self._refused_until.clear()
        want = max(1, int(limit.per_s * LEASE_S))
        bucket = f"{self._service}:{subject}"
        try:
            granted, wait_ms = await self._buckets.take(bucket, limit.per_s, limit.burst, want)
        except (RedisError, OSError) as exc:
            UNAVAILABLE.inc()
            self._store_down_until = now + STORE_DOWN_S
            if now - self._warned > WARN_EVERY_S:
                self._warned = now
                log.warning("rate limits unavailable, requests go through: %r", exc)
            self._credit[subject] = self._credit.get(subject, 0) + 1
            return
        if granted == 0:
            self._refused_until[subject] = now + wait_ms / 1000
            LIMITED.labels(kind=kind).inc()
            raise TooMany(subject, max(1, math.ceil(wait_ms / 1000)))
        self._credit[subject] = self._credit.get(subject, 0) + granted

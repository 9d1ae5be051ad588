"""Driving a service both ways in -- with its fast paths, and without them (everything
through the framework) -- in this process, on the stack's real Kafka and Redis, and
comparing what each answered and counted (``tests/integration/test_fast_paths.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from consentry_stack.stack import Stack

HEADERS = ("content-type", "www-authenticate", "idempotent-replayed")
"""The answer's headers that carry meaning (content-length follows the body)."""
COUNTERS = (
    "consentry_write_requests_total",
    "consentry_write_refusals_total",
    "consentry_write_auth_failures_total",
    "consentry_check_http_refusals_total",
    "consentry_check_http_auth_failures_total",
)
VARYING = ("token", "decision_id", "partition", "offset", "accepted_at")
"""Fields of a 202 that differ between two writes of the same decision."""


@dataclass(frozen=True)
class Sent:
    """One request: who sends it (None: no token), its body, extra headers, and the
    parties it names (replaced by fresh ones for each way, so histories do not mix)."""

    subject: str | None
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    raw: bytes | None = None
    query: str = ""


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]
    counted: dict[tuple[str, tuple[tuple[str, str], ...]], float]


def counters() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for metric in REGISTRY.collect():
        for sample in metric.samples:
            if sample.name in COUNTERS:
                found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def env_of(stack: Stack, monkeypatch: pytest.MonkeyPatch, prefix: str) -> None:
    for name, value in stack.service_env().items():
        if name.startswith(prefix):
            monkeypatch.setenv(name, value)


@asynccontextmanager
async def _client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://in-process") as c:
            yield c


async def _send(
    client: httpx.AsyncClient, stack: Stack, audience: str, path: str, sent: Sent
) -> Answer:
    headers = [] if sent.subject is None else [("Authorization", _bearer(stack, sent, audience))]
    headers += list(sent.headers)
    before = counters()
    if sent.body is None and sent.raw is None:
        response = await client.get(f"{path}?{sent.query}", headers=headers)
    else:
        content = sent.raw if sent.raw is not None else orjson.dumps(sent.body)
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "application/json"))
        response = await client.post(path, content=content, headers=headers)
    after = counters()
    counted = {k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k, 0.0)}
    body = response.json() if response.content else None
    kept = {k: v for k, v in response.headers.items() if k in HEADERS}
    return Answer(response.status_code, body, kept, counted)


def _bearer(stack: Stack, sent: Sent, audience: str) -> str:
    assert sent.subject is not None
    if sent.subject.startswith("raw:"):
        return sent.subject.removeprefix("raw:")
    return f"Bearer {stack.token(sent.subject, [audience])}"


@dataclass(frozen=True)
class Pair:
    """One request's answers both ways; ``renamed``: each party of the fast way's request
    and its counterpart in the framework's (the only thing allowed to differ)."""

    fast: Answer
    framework: Answer
    sent: Sent
    renamed: dict[str, str]


def _parties(sent: Sent) -> list[str]:
    named = [sent.subject or ""]
    if isinstance(sent.body, dict):
        named.append(str(sent.body.get("party", "")))
    return named


async def both_ways(
    make: Callable[[bool], FastAPI],
    stack: Stack,
    audience: str,
    path: str,
    sends: Callable[[], Awaitable[Sequence[Sent]]],
) -> tuple[list[Pair], list[Sequence[Sent]]]:
    """The requests ``sends()`` makes (fresh parties each time), through each way in."""
    results: list[list[Answer]] = []
    made: list[Sequence[Sent]] = []
    for fast in (True, False):
        requests = await sends()
        made.append(requests)
        async with _client(make(fast)) as client:
            results.append([await _send(client, stack, audience, path, s) for s in requests])
    renamed = {
        a: b
        for one, other in zip(made[0], made[1], strict=True)
        for a, b in zip(_parties(one), _parties(other), strict=True)
        if a and a != b
    }
    pairs = [
        Pair(f, w, sent, renamed)
        for f, w, sent in zip(results[0], results[1], made[0], strict=True)
    ]
    return pairs, made


def same(pair: Pair) -> None:
    """The two ways answered alike: status, meaningful headers, counters and body (the
    fast way's parties named as the framework's; a 202's token and place aside)."""
    fast, framework, sent = pair.fast, pair.framework, pair.sent
    assert fast.status == framework.status, (sent, fast, framework)
    assert fast.headers == framework.headers, sent
    assert fast.counted == framework.counted, sent
    text = orjson.dumps(fast.body).decode()
    for theirs, ours in sorted(pair.renamed.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(theirs, ours)
    body = orjson.loads(text)
    if fast.status == 202:
        assert sorted(body) == sorted(framework.body), sent
        strip = {k: v for k, v in body.items() if k not in VARYING}
        assert strip == {k: v for k, v in framework.body.items() if k not in VARYING}, sent
    else:
        assert body == framework.body, sent

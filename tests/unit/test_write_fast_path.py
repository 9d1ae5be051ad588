"""``FastDecisions`` dispatch: what it records itself, what it hands to the framework (with
the body intact, however it arrived), and how a failed write is answered. The write is
``PartyLog.append``'s: a recording stand-in of it here, the real one on the real stack in
``tests/integration/test_write_fast_path.py``."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from starlette.types import Message, Receive, Scope, Send

from consentry_auth import WRITE_AUDIENCE, Issuer, Verifier, generate_keys
from consentry_domain import load_taxonomy
from consentry_events import PartyEvent
from consentry_writeapi.errors import PublishError, WriteOutcome
from consentry_writeapi.fast import FastDecisions
from consentry_writeapi.recorder import Written
from consentry_writeapi.schemas import Accepted

PRIVATE, PUBLIC = generate_keys()
ISSUER = Issuer(PRIVATE)
BODY = {"party": "artist:nina", "purpose": "ai.training", "choice": "deny", "scope": "party"}


@dataclass
class Parties:
    """Records what it was asked to append; fails with ``error`` if set."""

    error: Exception | None = None
    appended: list[PartyEvent] = field(default_factory=list)

    async def append(self, party: str, make: Any, attempt: Any) -> Written:
        if self.error is not None:
            raise self.error
        self.appended.append(make(uuid.uuid4(), None))
        accepted = Accepted(
            token="consent:1:7",
            topic="consentry.consent.changes",
            partition=1,
            offset=7,
            accepted_at=datetime.now(UTC),
        )
        return Written(accepted, replayed=False)


class NoDelegations:
    async def granted(self, party: str) -> list[Any]:
        return []


@dataclass
class Framework:
    """The app behind the fast path: records the requests handed to it, answers 418."""

    bodies: list[bytes] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _call(
    fast: FastDecisions,
    parties: Parties,
    chunks: list[bytes],
    headers: dict[str, str],
    path: str = "/v1/decisions",
) -> tuple[int, bytes, dict[str, str]]:
    services = SimpleNamespace(
        taxonomy=load_taxonomy(), delegations=NoDelegations(), idempotency=None, parties=parties
    )
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "app": SimpleNamespace(state=SimpleNamespace(services=services)),
    }
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(fast(scope, receive, send))
    start, body = sent
    answer_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], body["body"], answer_headers


def _headers(subject: str = "artist:nina", **more: str) -> dict[str, str]:
    token = ISSUER.issue(subject, [WRITE_AUDIENCE])
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **more}


@pytest.fixture
def framework() -> Framework:
    return Framework()


@pytest.fixture
def fast(framework: Framework) -> FastDecisions:
    return FastDecisions(framework, Verifier(PUBLIC, WRITE_AUDIENCE), max_body_bytes=1024)


def test_a_decision_the_route_would_record_is_recorded_here(
    fast: FastDecisions, framework: Framework
) -> None:
    parties = Parties()
    body = orjson.dumps(BODY)
    status, answer, headers = _call(fast, parties, [body[:10], body[10:]], _headers())
    assert status == 202
    assert framework.bodies == []
    assert orjson.loads(answer)["token"] == "consent:1:7"
    assert headers["content-type"] == "application/json"
    (event,) = parties.appended
    assert (event.party, event.purpose) == ("artist:nina", "ai.training")
    assert event.actor == "artist:nina"


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (BODY, {"Content-Type": "application/json"}),  # no token
        (BODY, _headers() | {"Authorization": "Bearer nonsense"}),
        (BODY, _headers() | {"Content-Type": "application/json; charset=utf-8"}),
        (BODY | {"purpose": "ai.unknown"}, _headers()),
        (BODY | {"scope": "release"}, _headers()),  # no UPC
        (BODY | {"extra": 1}, _headers()),
        (BODY, _headers("artist:someone-else")),  # refused: not its own party
        (BODY, _headers(**{"Idempotency-Key": "with space"})),
        (BODY | {"party": "artist:" + "n" * 1100}, _headers()),  # over the body limit
    ],
)
def test_anything_else_goes_to_the_framework_with_its_body_whole(
    fast: FastDecisions, framework: Framework, body: dict[str, object], headers: dict[str, str]
) -> None:
    parties = Parties()
    raw = orjson.dumps(body)
    chunks = [raw[i : i + 300] for i in range(0, len(raw), 300)]
    status, _, _ = _call(fast, parties, chunks, headers)
    assert status == 418
    assert framework.bodies == [raw]
    assert parties.appended == []


def test_other_routes_are_untouched(fast: FastDecisions, framework: Framework) -> None:
    parties = Parties()
    status, _, _ = _call(fast, parties, [orjson.dumps(BODY)], _headers(), "/v1/decisions/many")
    assert status == 418
    assert parties.appended == []


def test_a_write_the_broker_did_not_acknowledge_gets_the_routes_error_body(
    fast: FastDecisions, framework: Framework
) -> None:
    parties = Parties(error=PublishError("no answer from the broker", WriteOutcome.UNKNOWN))
    status, answer, _ = _call(fast, parties, [orjson.dumps(BODY)], _headers())
    assert status == 503
    assert framework.bodies == []
    detail = orjson.loads(answer)["detail"]
    assert (detail["reason"], detail["outcome"]) == ("not_acknowledged", "unknown")

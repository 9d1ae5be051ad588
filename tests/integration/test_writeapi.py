"""The write API on the real broker: 202 only with an acknowledged offset, clear errors."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from consentry_events import CONSENT_CHANGES, ConsentChanged, decode
from consentry_events.tokens import Token
from consentry_stack.kafka import KafkaBroker
from consentry_stack.ports import free_port
from consentry_stack.processes import ManagedProcess
from consentry_stack.stack import Stack
from consentry_stack.topics import create_topics
from tests.support.events import record_at
from tests.support.http import ADMIN, CATALOGUE
from tests.support.ids import new_isrc, new_party


async def read_at(bootstrap: str, topic: str, partition: int, offset: int) -> bytes | None:
    value: bytes | None = (await record_at(bootstrap, topic, partition, offset)).value
    return value


def test_accepted_decision_is_in_kafka_at_the_token(stack: Stack) -> None:
    party = new_party()
    body = {"party": party, "purpose": "ai.training", "choice": "deny", "scope": "party"}
    response = httpx.post(
        f"{stack.write_url}/v1/decisions", json=body, headers=stack.bearer(party), timeout=15
    )
    assert response.status_code == 202, response.text
    accepted = response.json()
    expected = Token(CONSENT_CHANGES.name, accepted["partition"], accepted["offset"])
    assert accepted["token"] == str(expected)
    raw = asyncio.run(
        read_at(
            stack.kafka.bootstrap, CONSENT_CHANGES.name, accepted["partition"], accepted["offset"]
        )
    )
    event = decode(raw)
    assert isinstance(event, ConsentChanged)
    assert (event.party, event.purpose, event.choice.value) == (party, "ai.training", "deny")
    assert str(event.decision_id) == accepted["decision_id"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"purpose": "ai.training", "choice": "deny", "scope": "party"}, "party", "Field required"),
        (
            {"party": "artist:x", "purpose": "ai.telepathy", "choice": "deny", "scope": "party"},
            "purpose",
            "unknown purpose 'ai.telepathy'",
        ),
        (
            {"party": "artist:x", "purpose": "ai", "choice": "maybe", "scope": "party"},
            "choice",
            "'allow', 'deny' or 'withdrawn'",
        ),
        (
            {"party": "artist:x", "purpose": "ai", "choice": "deny", "scope": "track"},
            "isrc",
            "Field required",
        ),
        (
            {
                "party": "artist:x",
                "purpose": "ai",
                "choice": "deny",
                "scope": "release",
                "upc": "123",
            },
            "upc",
            "should match pattern",
        ),
        (
            {
                "party": "artist:x",
                "purpose": "ai",
                "choice": "deny",
                "scope": "party",
                "effective_from": "2027-02-01T00:00:00Z",
                "expires_at": "2027-01-01T00:00:00Z",
            },
            None,
            "expires_at must be after effective_from",
        ),
        (
            {"party": "artist:x", "purpose": "ai", "choice": "deny", "scope": "party", "x": 1},
            "x",
            "Extra inputs are not permitted",
        ),
    ],
)
def test_invalid_decisions_get_422_naming_the_problem(
    stack: Stack, body: dict[str, object], field: str | None, message: str
) -> None:
    response = httpx.post(
        f"{stack.write_url}/v1/decisions", json=body, headers=stack.bearer(ADMIN), timeout=15
    )
    assert response.status_code == 422
    problems = response.json()["detail"]["errors"]
    assert any(
        message in p["msg"] and (field is None or p["loc"][-1] == field) for p in problems
    ), problems


def test_invalid_track_gets_422(stack: Stack) -> None:
    body = {"isrc": new_isrc(), "upc": "5012345678900", "parties": []}
    response = httpx.post(
        f"{stack.write_url}/v1/tracks", json=body, headers=stack.bearer(CATALOGUE), timeout=15
    )
    assert response.status_code == 422
    assert response.json()["detail"]["errors"][0]["loc"] == ["body", "parties"]


@pytest.fixture
def lonely_broker(tmp_path: Path) -> Iterator[KafkaBroker]:
    """A broker of this test's own, so stopping it disturbs no other test."""
    broker = KafkaBroker(tmp_path / "kafka")
    broker.start()
    create_topics(broker.bootstrap)
    try:
        yield broker
    finally:
        broker.stop()


def test_broker_unreachable_is_an_error_never_a_success(
    lonely_broker: KafkaBroker, stack: Stack, tmp_path: Path
) -> None:
    """A write API of its own on a broker of its own (the session's Redis keeps its state)."""
    port = free_port()
    env = {
        **stack.service_env(),
        "CONSENTRY_WRITE_KAFKA_BOOTSTRAP": lonely_broker.bootstrap,
        "CONSENTRY_WRITE_PORT": str(port),
        "CONSENTRY_WRITE_PRODUCE_TIMEOUT_S": "3",
    }
    api = ManagedProcess(
        "writeapi", [sys.executable, "-m", "consentry_writeapi"], tmp_path / "w.log", env=env
    )
    api.start()
    url = f"http://127.0.0.1:{port}"
    party = new_party()
    body = {"party": party, "purpose": "ai", "choice": "deny", "scope": "party"}
    headers = stack.bearer(party)
    try:
        deadline = time.monotonic() + 30
        while not _ready(url):
            assert time.monotonic() < deadline, api.tail()
            time.sleep(0.1)
        first = httpx.post(f"{url}/v1/decisions", json=body, headers=headers, timeout=10)
        assert first.status_code == 202, first.text
        lonely_broker.stop()
        started = time.monotonic()
        response = httpx.post(f"{url}/v1/decisions", json=body, headers=headers, timeout=10)
        waited = time.monotonic() - started
    finally:
        api.stop()
    assert response.status_code == 503, response.text
    assert response.json()["detail"]["outcome"] == "unknown"
    assert "may or may not have been recorded" in response.json()["detail"]["message"]
    assert waited < 6, "the error must come once the produce timeout has passed"


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False

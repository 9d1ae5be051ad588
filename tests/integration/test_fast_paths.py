"""Both ways in answer alike (``consentry_http.fast``): the same requests -- every error the
fast path answers itself included -- sent to a service built with its fast paths and to
the same service without them (everything through the framework), both in this process
on the stack's real Kafka and Redis. Compared: status, body, the headers that carry
meaning, the refusal and request counters, and what reached the log (the parties'
histories and chains)."""

from __future__ import annotations

import time
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from consentry_auth import CHECK_AUDIENCE
from consentry_checkapi.app import create_app as check_app
from consentry_checkapi.settings import CheckServiceSettings
from consentry_domain.writes import IdempotencyRecord, KeyState
from consentry_stack.stack import Stack
from consentry_state import IdempotencyRecords
from consentry_writeapi.app import create_app as write_app
from consentry_writeapi.decide import DECISION
from consentry_writeapi.idempotency import fingerprint
from consentry_writeapi.settings import WriteSettings
from tests.support.both_ways import Sent, both_ways, env_of, same
from tests.support.http import decide, register
from tests.support.ids import new_isrc, new_party, new_upc

_PAST = "2030-01-01T00:00:00Z"


def _decision(party: str, **changes: Any) -> dict[str, Any]:
    return {"party": party, "purpose": "ai.training", "choice": "deny", "scope": "party"} | changes


async def _write_requests() -> list[Sent]:
    me, other = new_party(), new_party()
    key = ("Idempotency-Key", f"{me}-k")
    return [
        Sent(me, _decision(me), (key,)),
        Sent(me, _decision(me), (key,)),  # the same again: replayed, nothing written
        Sent(me, _decision(me, choice="allow"), (key,)),  # the key reused: 422
        Sent(me, _decision(me, purpose="ai.dj", expires_at="2031-01-01T00:00:00Z")),
        Sent(me, _decision(me, choice="withdrawn")),
        Sent(None, _decision(me)),
        Sent("raw:Basic abc", _decision(me)),
        Sent("raw:Bearer nonsense", _decision(me)),
        Sent(me, _decision(me), (("Authorization", "Bearer second"),)),
        Sent(me, _decision(other)),  # 403: not its own party
        Sent(me, _decision(me, purpose="ai.nope")),
        Sent(me, _decision(me, scope="release")),  # no UPC
        Sent(me, {k: v for k, v in _decision(me).items() if k != "scope"}),
        Sent(me, _decision(me, extra=1)),
        Sent(me, _decision(me, effective_from="2031-01-01T00:00:00Z", expires_at=_PAST)),
        Sent(me, raw=b'{"party": '),
        Sent(me, raw=b""),
        Sent(me, _decision(me), (("Content-Type", "text/plain"),)),
        Sent(me, _decision(me), (("Idempotency-Key", "has space"),)),
        Sent(me, _decision(me), (("Idempotency-Key", "a"), ("Idempotency-Key", "b"))),
        Sent(me, _decision("artist:" + "n" * 20_000)),  # over the body limit
    ]


def test_decisions_both_ways_answer_and_record_alike(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_of(stack, monkeypatch, "CONSENTRY_WRITE_")

    def make(fast: bool) -> FastAPI:
        return write_app(WriteSettings(), fast_paths=fast)

    pairs, made = anyio.run(
        both_ways, make, stack, "consentry-write", "/v1/decisions", _write_requests
    )
    statuses = [p.fast.status for p in pairs]
    assert statuses == [202, 202, 422, 202, 202] + [401] * 4 + [403] + [422] * 10 + [413]
    assert pairs[1].fast.headers.get("idempotent-replayed") == "true"
    for pair in pairs:
        same(pair)
    admin = stack.bearer("admin:tests")
    logs = []
    for requests in made:
        party = requests[0].subject
        history = httpx.get(f"{stack.write_url}/v1/parties/{party}/history", headers=admin)
        chain = httpx.get(f"{stack.write_url}/v1/parties/{party}/chain", headers=admin).json()
        logs.append(
            (
                [
                    (d["purpose"], d["choice"], d["scope"], d["expires_at"], d["actor"] == party)
                    for d in history.json()["decisions"]
                ],
                chain["events"],
                chain["intact"],
            )
        )
    assert logs[0] == logs[1]
    assert logs[0][1:] == (3, True), "three decisions reached the log, chained"


def test_a_key_still_in_flight_is_409_both_ways(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_of(stack, monkeypatch, "CONSENTRY_WRITE_")
    settings = WriteSettings()

    async def in_flight() -> list[Sent]:
        """A request whose key another request (elsewhere) is still writing under."""
        me = new_party()
        body = _decision(me)
        redis = Redis.from_url(settings.redis_url)
        records = IdempotencyRecords(redis, 600)
        mark = fingerprint("decisions", DECISION.validate_python(body).model_dump(mode="json"))
        now_ms = time.time_ns() // 1_000_000
        record = IdempotencyRecord(KeyState.PENDING, mark, "e-elsewhere", now_ms)
        await records.put(records.key_of(me, "busy"), record)
        await redis.aclose()
        return [Sent(me, body, (("Idempotency-Key", "busy"),))]

    def make(fast: bool) -> FastAPI:
        return write_app(settings, fast_paths=fast)

    pairs, _ = anyio.run(both_ways, make, stack, "consentry-write", "/v1/decisions", in_flight)
    assert pairs[0].fast.status == 409, pairs[0]
    same(pairs[0])


def test_an_unreachable_state_is_503_not_written_both_ways(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_of(stack, monkeypatch, "CONSENTRY_WRITE_")
    monkeypatch.setenv("CONSENTRY_WRITE_REDIS_URL", "redis://127.0.0.1:9/0")  # nothing there

    async def requests() -> list[Sent]:
        me = new_party()
        return [Sent(me, _decision(me)), Sent(me, _decision(me), (("Idempotency-Key", "k"),))]

    def make(fast: bool) -> FastAPI:
        return write_app(WriteSettings(), fast_paths=fast)

    pairs, _ = anyio.run(both_ways, make, stack, "consentry-write", "/v1/decisions", requests)
    for pair in pairs:
        assert pair.fast.status == 503, pair
        assert pair.fast.body["detail"]["outcome"] == "not_written"
        same(pair)


def test_checks_both_ways_answer_alike(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    artist, label, isrc = new_party(), new_party("label"), new_isrc()
    written = register(stack, isrc, new_upc(), [artist, label])
    decide(stack, label, "ai.training", "deny", "party")
    env_of(stack, monkeypatch, "CONSENTRY_CHECK_")
    service, unknown = "service:fast-path", new_isrc()

    async def requests() -> list[Sent]:
        query = f"isrc={isrc}&purpose=ai"
        return [
            Sent(service, query=f"isrc={isrc}&purpose=ai.training"),
            Sent(service, query=f"isrc={isrc}&purpose=ai.dj"),
            Sent(service, query=f"isrc={isrc}&purpose=ai.generation.voice"),
            Sent(service, query=f"isrc={isrc}&purpose=ai.dj&token={written['token']}"),
            Sent(service, query=f"isrc={unknown}&purpose=ai.dj"),
            Sent(None, query=f"isrc={isrc}&purpose=ai"),
            Sent("raw:Basic abc", query=f"isrc={isrc}&purpose=ai"),
            Sent("raw:Bearer nonsense", query=f"isrc={isrc}&purpose=ai"),
            Sent(service, headers=(("Authorization", "Bearer x"),), query=query),
            Sent(artist, query=f"isrc={isrc}&purpose=ai"),
            Sent(service, query="isrc=not-an-isrc&purpose=ai"),
            Sent(service, query=f"isrc={isrc}&purpose=ai&tokn=x"),
            Sent(service, query=f"isrc={isrc}&isrc={isrc}&purpose=ai"),
            Sent(service, query=f"isrc={isrc}"),
        ]

    def make(fast: bool) -> FastAPI:
        return check_app(CheckServiceSettings(), fast_paths=fast)

    pairs, _ = anyio.run(both_ways, make, stack, CHECK_AUDIENCE, "/v1/check", requests)
    assert [p.fast.status for p in pairs] == [200] * 5 + [401] * 4 + [403] + [422] * 4
    assert pairs[0].fast.body["answer"] == "deny"
    assert pairs[1].fast.body["answer"] == "allow"
    for pair in pairs:
        same(pair)

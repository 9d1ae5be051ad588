"""One way in (``consentry_http.inputs``, ``.auth``, ``.fast``): what a request must be,
read by the same functions whichever way it came, and ``FastPaths`` dispatch -- what it
answers itself, what it leaves to the framework, and how a refusal is answered. Both
ways on the real stack: ``tests/integration/test_fast_paths.py``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, TypeAdapter
from starlette.types import Message, Receive, Scope, Send

from consentry_auth import WRITE_AUDIENCE, AuthError, Issuer, Verifier, generate_keys
from consentry_http.app import BodyLimit
from consentry_http.auth import Authenticator, bearer_token
from consentry_http.fast import FastPaths
from consentry_http.inputs import Call, idempotency_key, json_body, query_of, single_values
from consentry_http.problems import HttpProblem, Invalid, Refusals, Unauthenticated
from consentry_writeapi import metrics

PRIVATE, PUBLIC = generate_keys()


def _call(headers: dict[str, str] | list[tuple[str, str]], body: bytes = b"", q: str = "") -> Call:
    pairs = headers.items() if isinstance(headers, dict) else headers
    raw = [(k.lower().encode(), v.encode()) for k, v in pairs]

    async def read() -> bytes:
        return body

    return Call(raw, q.encode(), read)


def _invalid(exc: pytest.ExceptionInfo[Invalid]) -> list[tuple[list[str | int], str]]:
    errors = exc.value.problem.errors or []
    return [(e.loc, e.type) for e in errors]


def test_one_bearer_token_or_a_reason_why_not() -> None:
    assert bearer_token(["Bearer abc"]) == "abc"
    assert bearer_token(["bearer abc"]) == "abc"
    for wrong, reason in (([], "missing"), (["Basic abc"], "missing"), (["Bearer "], "missing")):
        with pytest.raises(AuthError) as exc:
            bearer_token(wrong)
        assert exc.value.reason == reason
    with pytest.raises(AuthError) as exc:
        bearer_token(["Bearer a", "Bearer b"])
    assert exc.value.reason == "malformed"


async def test_the_authenticator_counts_and_challenges() -> None:
    auth = Authenticator(Verifier(PUBLIC, WRITE_AUDIENCE), metrics.AUTH_FAILURES)
    good = Issuer(PRIVATE).issue("artist:nina", [WRITE_AUDIENCE])
    found = await auth.principal(_call({"Authorization": f"Bearer {good}"}))
    assert found.subject == "artist:nina"
    before = metrics.AUTH_FAILURES.labels(reason="malformed")._value.get()
    with pytest.raises(Unauthenticated) as exc:
        await auth.principal(_call({"Authorization": "Bearer nonsense"}))
    assert exc.value.status_code == 401
    assert exc.value.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert metrics.AUTH_FAILURES.labels(reason="malformed")._value.get() == before + 1


def test_the_idempotency_key_is_one_printable_word() -> None:
    assert idempotency_key(_call({})) is None
    assert idempotency_key(_call({"Idempotency-Key": "a-1"})) == "a-1"
    for headers in (
        {"Idempotency-Key": "has space"},
        {"Idempotency-Key": "x" * 201},
        [("Idempotency-Key", "a"), ("Idempotency-Key", "b")],
    ):
        with pytest.raises(Invalid) as exc:
            idempotency_key(_call(headers))
        assert _invalid(exc)[0][0] == ["header", "Idempotency-Key"]


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    count: int = 0


THING = TypeAdapter(Thing)


def _body(body: bytes, content_type: str | None = "application/json") -> Thing:
    headers = {} if content_type is None else {"Content-Type": content_type}
    return asyncio.run(json_body(THING, _call(headers, body)))


def test_a_json_body_as_its_model_or_every_field_at_fault() -> None:
    assert _body(b'{"name": "a"}') == Thing(name="a")
    assert _body(b'{"name": "a"}', "application/json; charset=utf-8") == Thing(name="a")
    assert _body(b'{"name": "a"}', "application/merge-patch+json") == Thing(name="a")
    assert _body(b'{"name": "a"}', None) == Thing(name="a")
    with pytest.raises(Invalid) as exc:
        _body(b'{"count": "x", "extra": 1}')
    assert sorted(_invalid(exc)) == [
        (["body", "count"], "int_parsing"),
        (["body", "extra"], "extra_forbidden"),
        (["body", "name"], "missing"),
    ]
    with pytest.raises(Invalid) as exc:
        _body(b'{"name": ')
    assert _invalid(exc) == [(["body"], "json_invalid")]
    with pytest.raises(Invalid) as exc:
        _body(b"")
    assert _invalid(exc)[0][0] == ["body"]
    with pytest.raises(Invalid) as exc:
        _body(b'{"name": "a"}', "text/plain")
    assert _invalid(exc)[0][0] == ["body"], "not JSON: refused, never guessed"


class Query(BaseModel):
    model_config = ConfigDict(extra="forbid")
    isrc: str
    token: str | None = None


def test_a_query_as_its_model_each_parameter_once() -> None:
    assert query_of(Query, _call({}, q="isrc=X&token=t")) == Query(isrc="X", token="t")
    with pytest.raises(Invalid) as exc:
        query_of(Query, _call({}, q="isrc=X&isrc=Y&token=a&token=b"))
    twice = [(["query", "isrc"], "value_error"), (["query", "token"], "value_error")]
    assert _invalid(exc) == twice
    with pytest.raises(Invalid) as exc:
        query_of(Query, _call({}, q="isrc=X&tokn=t"))
    assert _invalid(exc) == [(["query", "tokn"], "extra_forbidden")]
    assert single_values([("a", "1"), ("b", "2")]) == {"a": "1", "b": "2"}


@dataclass
class Framework:
    """What lies behind the fast paths: records what reached it, answers 418."""

    reached: list[str] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@dataclass
class Sent:
    status: int = 0
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def _drive(
    app: Any, path: str, chunks: list[bytes], state: Any, headers: dict[str, str] | None = None
) -> tuple[Sent, Scope]:
    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "app": SimpleNamespace(state=state, router=SimpleNamespace(routes=[])),
    }
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent = Sent()

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            sent.status = message["status"]
            sent.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        else:
            sent.body += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return sent, scope


async def _echo(call: Call) -> Response:
    body = await call.body()
    if body == b"refuse":
        raise HttpProblem("nope", "refused here", status_code=403)
    if body == b"bug":
        raise RuntimeError("a bug")
    return Response(body, 201, media_type="application/json")


def _fast(refused: list[str]) -> tuple[FastPaths, Framework, SimpleNamespace]:
    framework = Framework()
    state = SimpleNamespace(started=True, refusals=Refusals(lambda p: refused.append(p.reason)))
    return FastPaths(framework, {("POST", "/fast"): _echo}), framework, state


def test_the_operation_answers_its_own_route_with_the_whole_body() -> None:
    fast, framework, state = _fast([])
    sent, _ = _drive(fast, "/fast", [b'{"a":', b" 1}"], state)
    assert (sent.status, sent.body) == (201, b'{"a": 1}')
    assert framework.reached == []


def test_other_routes_and_a_service_not_started_go_to_the_framework() -> None:
    fast, framework, state = _fast([])
    assert _drive(fast, "/other", [b"{}"], state)[0].status == 418
    state.started = False
    assert _drive(fast, "/fast", [b"{}"], state)[0].status == 418
    assert framework.reached == ["/other", "/fast"]


def test_a_refusal_is_the_one_error_body_counted_and_a_bug_is_not_hidden() -> None:
    refused: list[str] = []
    fast, _, state = _fast(refused)
    sent, _ = _drive(fast, "/fast", [b"refuse"], state)
    assert sent.status == 403
    assert orjson.loads(sent.body) == {"detail": {"reason": "nope", "message": "refused here"}}
    assert refused == ["nope"]
    with pytest.raises(RuntimeError):
        _drive(fast, "/fast", [b"bug"], state)


def test_a_body_over_the_limit_is_413_on_the_fast_path_too() -> None:
    refused: list[str] = []
    fast, _, state = _fast(refused)
    limited = BodyLimit(fast, default=10, larger={})
    sent, _ = _drive(limited, "/fast", [b"x" * 8, b"x" * 8], state)  # no declared length
    assert sent.status == 413
    assert orjson.loads(sent.body)["detail"]["reason"] == "too_large"
    assert refused == ["too_large"]

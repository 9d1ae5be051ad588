"""``POST /v1/decisions`` is recorded outside the framework when the route would record it
(``consentry_writeapi.fast``). The same requests sent both ways -- ``application/json``
takes the fast path, ``application/json; charset=utf-8`` the framework -- must give the
same answers, the same history and an intact chain, and the same errors."""

from __future__ import annotations

from typing import Any

import httpx

from consentry_stack.stack import Stack
from tests.support.ids import new_party

DIFFER = ("party", "decision_id", "recorded_at", "partition", "offset", "actor", "prev_hash")
"""History fields that differ between two parties' same decisions."""
FAST = "application/json"
FRAMEWORK = "application/json; charset=utf-8"
STEPS: list[dict[str, Any]] = [
    {"purpose": "ai.training", "choice": "deny", "scope": "party"},
    {"purpose": "ai.dj", "choice": "allow", "scope": "party", "expires_at": "2031-01-01T00:00:00Z"},
    {"purpose": "ai.training", "choice": "withdrawn", "scope": "party"},
]


def _post(stack: Stack, subject: str, body: Any, content_type: str, **headers: str) -> Any:
    return httpx.post(
        f"{stack.write_url}/v1/decisions",
        content=httpx.Request("POST", "/", json=body).content,
        headers={**stack.bearer(subject), "Content-Type": content_type, **headers},
        timeout=15,
    )


def _record(stack: Stack, content_type: str) -> tuple[list[Any], list[Any], Any]:
    party = new_party()
    answers, replays = [], []
    for n, step in enumerate(STEPS):
        key = {"Idempotency-Key": f"{party}-{n}"}
        first = _post(stack, party, {"party": party, **step}, content_type, **key)
        again = _post(stack, party, {"party": party, **step}, content_type, **key)
        assert first.status_code == again.status_code == 202, (first.text, again.text)
        assert again.json() == first.json()
        replays.append(
            (first.headers.get("idempotent-replayed"), again.headers["idempotent-replayed"])
        )
        answers.append(sorted(first.json()))
    reader = stack.bearer("admin:tests")
    history = httpx.get(f"{stack.write_url}/v1/parties/{party}/history", headers=reader).json()
    chain = httpx.get(f"{stack.write_url}/v1/parties/{party}/chain", headers=reader).json()
    shape = [
        {k: v for k, v in d.items() if k not in DIFFER}
        | {"by_itself": d["actor"] == party, "chained": d["prev_hash"] is not None}
        for d in history["decisions"]
    ]
    return answers + replays, shape, (chain["events"], chain["intact"])


def test_both_paths_record_the_same_decisions_and_chain(stack: Stack) -> None:
    fast, framework = _record(stack, FAST), _record(stack, FRAMEWORK)
    assert fast == framework
    _, shape, chain = fast
    assert len(shape) == len(STEPS)
    assert chain == (len(STEPS), True)


def test_both_paths_give_the_same_errors(stack: Stack) -> None:
    party, other = new_party(), new_party()
    cases: list[tuple[str, Any, dict[str, str], int]] = [
        (party, {"party": other, "purpose": "ai", "choice": "deny", "scope": "party"}, {}, 403),
        (
            party,
            {"party": party, "purpose": "ai.nope", "choice": "deny", "scope": "party"},
            {},
            422,
        ),
        (party, {"party": party, "purpose": "ai", "choice": "deny", "scope": "release"}, {}, 422),
        (party, {"party": party, "purpose": "ai", "choice": "deny"}, {}, 422),
        (
            party,
            {"party": party, "purpose": "ai", "choice": "deny", "scope": "party"},
            {"Idempotency-Key": "has space"},
            422,
        ),
        (
            party,
            {"party": party, "purpose": "ai", "choice": "deny", "scope": "party", "x": 1},
            {},
            422,
        ),
    ]
    for subject, body, headers, status in cases:
        fast = _post(stack, subject, body, FAST, **headers)
        framework = _post(stack, subject, body, FRAMEWORK, **headers)
        assert fast.status_code == framework.status_code == status, (body, fast.text)
        assert fast.json() == framework.json()
    no_token = httpx.post(
        f"{stack.write_url}/v1/decisions",
        json={"party": party, "purpose": "ai", "choice": "deny", "scope": "party"},
        timeout=15,
    )
    assert no_token.status_code == 401
    key = {"Idempotency-Key": f"{party}-reused"}
    body = {"party": party, "purpose": "ai", "choice": "deny", "scope": "party"}
    assert _post(stack, party, body, FAST, **key).status_code == 202
    reused = _post(stack, party, {**body, "choice": "allow"}, FAST, **key)
    assert reused.status_code == 422, reused.text
    assert reused.json()["detail"]["reason"] == "invalid_request", reused.text

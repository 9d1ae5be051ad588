"""``GET /v1/check`` is answered outside the framework when the framework would answer
200 (``consentry_checkapi.fast``): the answer must be the framework's, and every request
it does not take must get exactly the framework's error."""

from __future__ import annotations

import httpx

from consentry_auth import CHECK_AUDIENCE
from consentry_stack.stack import Stack
from tests.support.http import await_answer, decide, register
from tests.support.ids import new_isrc, new_party, new_upc


def test_the_fast_answer_is_the_framework_answer(stack: Stack) -> None:
    artist, label, isrc = new_party(), new_party("label"), new_isrc()
    register(stack, isrc, new_upc(), [artist, label])
    decide(stack, label, "ai.training", "deny", "party")
    await_answer(stack, isrc, "ai.training", "deny")
    headers = stack.bearer("service:fast-path")
    for purpose in ("ai.training", "ai.dj", "ai.generation.voice"):
        fast = httpx.get(
            f"{stack.check_url}/v1/check",
            params={"isrc": isrc, "purpose": purpose},
            headers=headers,
        )
        framework = httpx.post(  # the batch route always runs through FastAPI
            f"{stack.check_url}/v1/check",
            json={"purpose": purpose, "isrcs": [isrc]},
            headers=headers,
        )
        assert fast.status_code == framework.status_code == 200, (fast.text, framework.text)
        assert fast.headers["content-type"] == "application/json"
        assert fast.json() == framework.json()["answers"][0]


def test_requests_it_does_not_take_get_the_framework_errors(stack: Stack) -> None:
    url, isrc = f"{stack.check_url}/v1/check", new_isrc()
    good = stack.bearer("service:fast-path")
    artist = {"Authorization": f"Bearer {stack.token('artist:nina', [CHECK_AUDIENCE])}"}
    cases = [
        ({}, {"isrc": isrc, "purpose": "ai"}, 401, "missing"),
        ({"Authorization": "Basic abc"}, {"isrc": isrc, "purpose": "ai"}, 401, "missing"),
        ({"Authorization": "Bearer nonsense"}, {"isrc": isrc, "purpose": "ai"}, 401, "malformed"),
        (artist, {"isrc": isrc, "purpose": "ai"}, 403, "services_only"),
        (good, {"isrc": "not-an-isrc", "purpose": "ai"}, 422, "invalid_request"),
        (good, {"isrc": isrc, "purpose": "ai", "tokn": "x"}, 422, "invalid_request"),
    ]
    for headers, params, status, reason in cases:
        response = httpx.get(url, params=params, headers=headers)
        assert response.status_code == status, (params, response.text)
        assert response.json()["detail"]["reason"] == reason, response.text

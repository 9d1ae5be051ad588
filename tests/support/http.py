"""Helpers that drive the running stack over HTTP, waiting on conditions with deadlines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from consentry_stack.stack import Stack
from tests.support.eventually import eventually

CATALOGUE = "catalogue:tests"
SERVICE = "service:tests"
ADMIN = "admin:tests"


def register(stack: Stack, isrc: str, upc: str, parties: list[str], status: str = "active") -> Any:
    body = {"isrc": isrc, "upc": upc, "parties": parties, "status": status}
    response = httpx.post(
        f"{stack.write_url}/v1/tracks", json=body, headers=stack.bearer(CATALOGUE), timeout=15
    )
    assert response.status_code == 202, response.text
    return response.json()


def import_tracks(
    stack: Stack,
    tracks: Sequence[Mapping[str, Any]],
    principal: str = CATALOGUE,
    timeout_s: float = 30,
) -> httpx.Response:
    """``POST /v1/tracks/import`` as ``principal``. The response is returned unchecked:
    refusals (a principal not the catalogue feed, too many items) are what some tests
    are about."""
    return httpx.post(
        f"{stack.write_url}/v1/tracks/import",
        json={"tracks": list(tracks)},
        headers=stack.bearer(principal),
        timeout=timeout_s,
    )


def decide(stack: Stack, party: str, purpose: str, choice: str, scope: str, **work: str) -> Any:
    body = {"party": party, "purpose": purpose, "choice": choice, "scope": scope, **work}
    response = httpx.post(
        f"{stack.write_url}/v1/decisions", json=body, headers=stack.bearer(party), timeout=15
    )
    assert response.status_code == 202, response.text
    return response.json()


def chain(stack: Stack, party: str) -> dict[str, object]:
    """The party's chain report from the write API, read as the party."""
    response = httpx.get(
        f"{stack.write_url}/v1/parties/{party}/chain", headers=stack.bearer(party), timeout=15
    )
    assert response.status_code == 200, response.text
    found: dict[str, object] = response.json()
    return found


def check(stack: Stack, isrc: str, purpose: str, token: str | None = None) -> Any:
    """The check service's answer (with a consistency token: never from its cache)."""
    params = {"isrc": isrc, "purpose": purpose} | ({} if token is None else {"token": token})
    response = httpx.get(
        f"{stack.check_url}/v1/check",
        params=params,
        headers=stack.bearer(SERVICE),
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return response.json()


def await_answer(stack: Stack, isrc: str, purpose: str, answer: str, timeout_s: float = 5.0) -> Any:
    """Poll the check service until it gives ``answer`` from the state; fail past the deadline."""

    def settled() -> Any:
        found = check(stack, isrc, purpose)
        decided = found["reasons"][0]["basis"] not in ("unknown_track", "unverifiable")
        return found if found["answer"] == answer and decided else None

    return eventually(settled, timeout_s, f"{isrc} {purpose} answered {answer}")

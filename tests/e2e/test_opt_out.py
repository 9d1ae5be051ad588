"""The acceptance path, through HTTP only: register, check allow, opt out, see deny."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from consentry_stack.stack import Stack
from tests.support.eventually import eventually
from tests.support.http import CATALOGUE, SERVICE
from tests.support.ids import new_isrc, new_party, new_upc


@pytest.mark.e2e
def test_an_artist_opt_out_is_enforced_within_5_seconds(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    isrc, artist, label = new_isrc(), new_party("artist"), new_party("label")
    service = stack.bearer(SERVICE)
    with httpx.Client(timeout=10) as http:
        track = {"isrc": isrc, "upc": new_upc(), "parties": [artist, label]}
        assert (
            http.post(
                f"{stack.write_url}/v1/tracks", json=track, headers=stack.bearer(CATALOGUE)
            ).status_code
            == 202
        )

        check = {"isrc": isrc, "purpose": "ai.training"}

        def registered() -> Any:
            answer = http.get(f"{stack.check_url}/v1/check", params=check, headers=service).json()
            return None if answer["reasons"][0]["basis"] == "unknown_track" else answer

        answer = eventually(registered, 5, "the track registered", poll_s=0.01)
        assert answer["answer"] == "allow", answer

        opt_out = {"party": artist, "purpose": "ai.training", "choice": "deny", "scope": "party"}
        started = time.monotonic()
        accepted = http.post(
            f"{stack.write_url}/v1/decisions", json=opt_out, headers=stack.bearer(artist)
        )
        assert accepted.status_code == 202, accepted.text

        def denied() -> Any:
            answer = http.get(f"{stack.check_url}/v1/check", params=check, headers=service).json()
            return None if answer["answer"] == "allow" else answer

        answer = eventually(denied, 5, "the opt-out enforced", poll_s=0)
        propagation = time.monotonic() - started

    assert answer["answer"] == "deny"
    assert answer["reasons"][0]["party"] == artist
    assert answer["reasons"][0]["decision_id"] == accepted.json()["decision_id"]
    with capsys.disabled():
        print(
            f"\n[e2e] opt-out accepted -> check denies: {propagation * 1000:.1f} ms "
            f"(including the write API's acks=all round trip)"
        )


@pytest.mark.e2e
def test_a_check_with_the_token_reads_the_write(stack: Stack) -> None:
    isrc, artist = new_isrc(), new_party("artist")
    service = stack.bearer(SERVICE)
    with httpx.Client(timeout=10) as http:

        def write(path: str, body: dict[str, Any], principal: str) -> Any:
            return http.post(
                f"{stack.write_url}{path}", json=body, headers=stack.bearer(principal)
            ).json()

        def check(token: str) -> httpx.Response:
            """The check, reading at least what ``token`` names."""
            return http.get(
                f"{stack.check_url}/v1/check",
                headers=service,
                params={"isrc": isrc, "purpose": "ai.training", "token": token},
            )

        track = {"isrc": isrc, "upc": new_upc(), "parties": [artist]}
        registered = write("/v1/tracks", track, CATALOGUE)
        first = check(registered["token"]).json()
        assert first["answer"] == "allow", first
        opt_out = {"party": artist, "purpose": "ai.training", "choice": "deny", "scope": "party"}
        accepted = write("/v1/decisions", opt_out, artist)
        answer = check(accepted["token"]).json()
        assert answer["answer"] == "deny", "read-your-writes: no poll needed with the token"
        assert answer["reasons"][0]["decision_id"] == accepted["decision_id"]
        bad = check("nonsense")
        assert bad.status_code == 422

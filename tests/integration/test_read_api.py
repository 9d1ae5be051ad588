"""A party reads its current decisions (Redis) and its whole history (Kafka)."""

from __future__ import annotations

from typing import Any

import httpx

from consentry_stack.stack import Stack
from tests.support.eventually import eventually
from tests.support.http import ADMIN, await_answer, decide, register
from tests.support.ids import new_isrc, new_party, new_upc


def test_current_decisions_and_full_history(stack: Stack) -> None:
    artist, other, isrc, upc = new_party(), new_party(), new_isrc(), new_upc()
    register(stack, isrc, upc, [artist])
    first = decide(stack, artist, "ai.training", "deny", "party")
    second = decide(stack, artist, "ai.training", "allow", "party")
    windowed = decide(
        stack, artist, "ai.dj", "deny", "release", upc=upc, effective_from="2099-01-01T00:00:00Z"
    )
    decide(stack, artist, "ai.generation", "deny", "track", isrc=isrc)
    withdrawn = decide(stack, artist, "ai.generation", "withdrawn", "track", isrc=isrc)
    decide(stack, other, "ai", "deny", "party")
    await_answer(stack, isrc, "ai.training", "allow")
    await_answer(stack, isrc, "ai.generation.stems", "allow")

    headers = stack.bearer(artist)
    current = httpx.get(
        f"{stack.write_url}/v1/parties/{artist}/decisions", headers=headers, timeout=10
    ).json()
    by_id = {d["decision_id"]: d for d in current["decisions"]}
    assert set(by_id) == {second["decision_id"], windowed["decision_id"]}
    assert by_id[second["decision_id"]]["in_force"] is True
    assert by_id[windowed["decision_id"]]["in_force"] is False
    assert by_id[windowed["decision_id"]]["upc"] == upc

    def applied() -> Any:
        history = httpx.get(
            f"{stack.write_url}/v1/parties/{artist}/history", headers=headers, timeout=10
        ).json()
        return history if all(d["applied"] for d in history["decisions"]) else None

    decisions = eventually(applied, 5, f"{artist}'s history applied", poll_s=0.05)["decisions"]
    assert [d["choice"] for d in decisions] == ["deny", "allow", "deny", "deny", "withdrawn"]
    assert decisions[0]["decision_id"] == first["decision_id"]
    assert decisions[-1]["offset"] == withdrawn["offset"]
    assert all(d["party"] == artist and d["applied"] for d in decisions)
    offsets = [d["offset"] for d in decisions]
    assert offsets == sorted(offsets)


def test_a_malformed_party_is_refused(stack: Stack) -> None:
    response = httpx.get(
        f"{stack.write_url}/v1/parties/nobody/decisions", headers=stack.bearer(ADMIN), timeout=10
    )
    assert response.status_code == 422
    assert response.json()["detail"]["errors"][0]["loc"] == ["path", "party"]

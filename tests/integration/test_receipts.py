"""Issue 15: downstream systems and their receipts, on the real stack.

An operator registers a system with a short deadline; a label opts out; the system
follows the feed and acknowledges some changes (one twice, one failed); the label reads
its decision's receipt: recorded, enforced by checks, how many answers changed, and the
system's counts -- then overdue once the deadline passed (in the receipt and in the
tracker's metric), and done once every change is acknowledged. Receipts are refused
from anyone but a system, and a decision's receipt to anyone but its party.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from contextlib import aclosing
from typing import Any

import httpx

from consentry_sdk import ChangeFeed, Checkpoint, FeedChange, FeedSettings
from consentry_stack.stack import Stack
from tests.support.eventually import eventually
from tests.support.http import ADMIN, await_answer, decide, register
from tests.support.ids import new_isrc, new_party, new_upc

DEADLINE_S = 3


def put_system(stack: Stack, name: str, purposes: list[str], deadline_s: int) -> httpx.Response:
    return httpx.put(
        f"{stack.write_url}/v1/downstream-systems/{name}",
        json={"purposes": purposes, "deadline_s": deadline_s},
        headers=stack.bearer(ADMIN),
        timeout=10,
    )


def send(stack: Stack, system: str, receipts: list[dict[str, Any]]) -> httpx.Response:
    return httpx.post(
        f"{stack.write_url}/v1/receipts",
        json={"receipts": receipts},
        headers=stack.bearer(f"system:{system}"),
        timeout=10,
    )


def receipt_of(stack: Stack, decision_id: str, reader: str) -> httpx.Response:
    return httpx.get(
        f"{stack.write_url}/v1/decisions/{decision_id}/receipt",
        headers=stack.bearer(reader),
        timeout=10,
    )


def overdue_metric(stack: Stack, system: str) -> float | None:
    text = httpx.get(f"http://127.0.0.1:{stack.metrics_port('receipts')}/metrics").text
    found = re.search(rf'^consentry_receipts_overdue{{system="{system}"}} (\S+)$', text, re.M)
    return None if found is None else float(found[1])


def test_receipts_from_registration_to_done(stack: Stack) -> None:
    system = f"trainer-{uuid.uuid4().hex[:8]}"
    assert put_system(stack, system, ["ai.training"], DEADLINE_S).status_code == 202
    eventually(lambda: overdue_metric(stack, system) == 0, 20, "the tracker counts the new system")
    label, upc = new_party("label"), new_upc()
    isrcs = [new_isrc() for _ in range(5)]
    for isrc in isrcs:
        register(stack, isrc, upc, [new_party(), label])
    await_answer(stack, isrcs[-1], "ai.training", "allow")
    feed = ChangeFeed(FeedSettings(kafka_bootstrap=stack.kafka.bootstrap, checkpoint_every_s=0.2))

    async def changes_of_the_opt_out() -> tuple[str, list[FeedChange]]:
        async with aclosing(feed.follow(["ai.training"])) as items:
            async for item in items:
                if isinstance(item, Checkpoint):
                    break
        cursor = item.cursor
        body = await asyncio.to_thread(decide, stack, label, "ai.training", "deny", "party")
        seen: list[FeedChange] = []
        async with asyncio.timeout(30):
            async with aclosing(feed.follow(["ai.training"], cursor)) as items:
                async for item in items:
                    if isinstance(item, FeedChange) and item.event.isrc in isrcs:
                        seen.append(item)
                        if len(seen) == len(isrcs):
                            break
        return str(body["decision_id"]), seen

    decision_id, changes = asyncio.run(changes_of_the_opt_out())
    places = [c.change for c in changes]
    first = [
        {"change": places[0], "status": "done"},
        {"change": places[1], "status": "not_held"},
        {"change": places[2], "status": "failed", "reason": "stems store offline"},
    ]
    assert send(stack, system, first).status_code == 202
    assert send(stack, system, first[:1]).status_code == 202  # the same again: nothing new

    def counted(**expected: int) -> dict[str, Any] | None:
        answer = receipt_of(stack, decision_id, label)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        mine = [s for s in body["downstream"] if s["system"] == system]
        if mine and all(mine[0][k] == v for k, v in expected.items()):
            return body
        return None

    body = eventually(
        lambda: counted(pending=2, done=1, not_held=1, failed=1), 20, "the receipts counted"
    )
    assert body["party"] == label
    assert body["tracks_changed"] == 5
    assert body["checks_enforcing_by"] is not None
    assert 0 <= body["enforced_after_ms"] < 5_000
    assert body["token"].startswith("consent:")

    def overdue_now() -> dict[str, Any] | None:
        found = counted(pending=2)
        return found if found is not None and _status(found, system) == "overdue" else None

    eventually(overdue_now, DEADLINE_S + 10, "the receipt overdue past the deadline")
    eventually(lambda: (overdue_metric(stack, system) or 0) >= 2, 10, "the overdue metric")

    rest = [{"change": p, "status": "done"} for p in places[2:]]  # the failed one, redone
    assert send(stack, system, rest).status_code == 202
    done = eventually(
        lambda: counted(pending=0, done=4, not_held=1, failed=0), 20, "every change acknowledged"
    )
    assert _status(done, system) == "done"
    eventually(lambda: overdue_metric(stack, system) == 0, 10, "nothing overdue any more")

    # Nobody else's: another party, a system, a stranger's decision id.
    assert receipt_of(stack, decision_id, new_party("label")).status_code == 403
    assert receipt_of(stack, decision_id, f"system:{system}").status_code == 403
    assert receipt_of(stack, str(uuid.uuid4()), label).status_code == 404


def _status(body: dict[str, Any], system: str) -> str:
    return str(next(s["status"] for s in body["downstream"] if s["system"] == system))


def test_receipts_and_registrations_are_refused_when_they_should_be(stack: Stack) -> None:
    party = new_party()
    good = [{"change": "0:1", "status": "done"}]
    as_party = httpx.post(
        f"{stack.write_url}/v1/receipts",
        json={"receipts": good},
        headers=stack.bearer(party),
        timeout=10,
    )
    assert as_party.status_code == 403
    assert as_party.json()["detail"]["reason"] == "systems_only"
    failed_without_reason = send(stack, "trainer", [{"change": "0:1", "status": "failed"}])
    assert failed_without_reason.status_code == 422
    assert send(stack, "trainer", [{"change": "zero", "status": "done"}]).status_code == 422
    by_party = httpx.put(
        f"{stack.write_url}/v1/downstream-systems/mine",
        json={"purposes": ["ai"], "deadline_s": 60},
        headers=stack.bearer(party),
        timeout=10,
    )
    assert by_party.status_code == 403
    assert put_system(stack, "Bad_Name", ["ai"], 60).status_code == 422
    assert put_system(stack, "unknown-purpose", ["ai.nonsense"], 60).status_code == 422
    decided = decide(stack, party, "ai.dj", "deny", "party")
    assert (
        httpx.post(
            f"{stack.write_url}/v1/decisions",
            json={"party": party, "purpose": "ai", "choice": "deny", "scope": "party"},
            headers=stack.bearer("system:trainer"),
            timeout=10,
        ).status_code
        == 403
    ), "a system records no decisions"
    assert decided["decision_id"]

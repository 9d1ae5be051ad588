"""One request, many works (``POST /v1/decisions/many``) on the real stack: one event,
one token that covers every work, the chain intact, each track checked against the
catalogue, and enforcement events for exactly the tracks whose answer changed."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from consentry_enforcer.settings import GROUP as ENFORCER
from consentry_events import CONSENT_CHANGES, ConsentChangedMany, EnforcementChanged
from consentry_stack.stack import Stack
from tests.support.events import record_at
from tests.support.http import ADMIN, await_answer, check, register
from tests.support.ids import new_isrc, new_party, new_upc
from tests.support.log import Marks, accepted_at, enforcement_for, wait_consumed


def decide_many(
    stack: Stack, actor: str, body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    headers = stack.bearer(actor) | ({} if key is None else {"Idempotency-Key": key})
    return httpx.post(
        f"{stack.write_url}/v1/decisions/many", json=body, headers=headers, timeout=30
    )


def read(stack: Stack, party: str, what: str) -> Any:
    response = httpx.get(
        f"{stack.write_url}/v1/parties/{party}/{what}", headers=stack.bearer(party), timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_label_opts_releases_out_in_one_request(stack: Stack) -> None:
    label, artist, other = new_party("label"), new_party(), new_party("label")
    releases = [new_upc() for _ in range(3)]
    on: dict[str, list[str]] = {upc: [new_isrc() for _ in range(3)] for upc in releases}
    foreign_upc, foreign_isrc = new_upc(), new_isrc()
    marks: Marks = {}
    for upc, isrcs in on.items():
        for isrc in isrcs:
            marks |= accepted_at(register(stack, isrc, upc, [artist, label]))
    marks |= accepted_at(register(stack, foreign_isrc, foreign_upc, [new_party(), other]))
    every = [isrc for isrcs in on.values() for isrc in isrcs] + [foreign_isrc]
    for isrc in every:
        await_answer(stack, isrc, "ai.training", "allow")
    asyncio.run(wait_consumed(stack.kafka.bootstrap, ENFORCER, marks))

    # Two of its releases, and one it holds nothing on: accepted, and it changes nothing.
    chosen = [releases[0], releases[1], foreign_upc]
    body = {
        "party": label,
        "purpose": "ai.training",
        "choice": "deny",
        "scope": "release",
        "works": chosen,
    }
    response = decide_many(stack, label, body)
    assert response.status_code == 202, response.text
    accepted = response.json()
    token = accepted["token"]

    denied = on[releases[0]] + on[releases[1]]
    for isrc in every:
        expected = "deny" if isrc in denied else "allow"
        assert check(stack, isrc, "ai.training", token)["answer"] == expected, isrc

    where = (CONSENT_CHANGES.name, accepted["partition"], accepted["offset"])
    record = asyncio.run(record_at(stack.kafka.bootstrap, *where))
    event = ConsentChangedMany.model_validate_json(record.value)
    assert event.works == tuple(chosen)
    assert str(event.decision_id) == accepted["decision_id"]

    def caused_by_it(e: EnforcementChanged) -> bool:
        return e.cause is not None and (e.cause.partition, e.cause.offset) == (
            accepted["partition"],
            accepted["offset"],
        )

    events = asyncio.run(
        enforcement_for(stack.kafka.bootstrap, set(every), caused_by_it, count=len(denied))
    )
    assert {(e.isrc, e.purpose, e.answer) for e in events} == {
        (isrc, "ai.training", "deny") for isrc in denied
    }

    history = read(stack, label, "history")["decisions"]
    assert [d["upc"] for d in history] == chosen
    assert {(d["offset"], d["decision_id"]) for d in history} == {
        (accepted["offset"], accepted["decision_id"])
    }
    current = read(stack, label, "decisions")["decisions"]
    assert sorted(d["upc"] for d in current) == sorted(chosen)
    chain = read(stack, label, "chain")
    assert (chain["intact"], chain["events"]) == (True, 1)


def test_one_track_of_another_holder_refuses_the_whole_request(stack: Stack) -> None:
    label, stranger = new_party("label"), new_party("label")
    upc = new_upc()
    ours = [new_isrc() for _ in range(3)]
    theirs = new_isrc()
    for isrc in ours:
        register(stack, isrc, upc, [new_party(), label])
    register(stack, theirs, upc, [new_party(), stranger])
    for isrc in (*ours, theirs):
        await_answer(stack, isrc, "ai.dj", "allow")

    body = {
        "party": label,
        "purpose": "ai.dj",
        "choice": "deny",
        "scope": "track",
        "works": [ours[0], theirs, ours[1]],
    }
    response = decide_many(stack, label, body)
    assert response.status_code == 403, response.text
    detail = response.json()["detail"]
    assert detail["reason"] == "not_rights_holder"
    assert [e["loc"] for e in detail["errors"]] == [["body", "works", 1]]
    assert stranger in detail["errors"][0]["msg"]
    assert read(stack, label, "chain")["events"] == 0  # nothing written

    # Another party may not decide for the label at all; an admin may, and says so.
    assert decide_many(stack, stranger, body | {"works": ours}).status_code == 403
    admin = decide_many(stack, ADMIN, body | {"works": ours})
    assert admin.status_code == 202, admin.text
    for isrc in ours:
        assert check(stack, isrc, "ai.dj", admin.json()["token"])["answer"] == "deny"
    assert read(stack, label, "history")["decisions"][0]["authority"] == "admin"


def test_bad_works_are_named_and_change_nothing(stack: Stack) -> None:
    artist = new_party()
    base: dict[str, Any] = {
        "party": artist,
        "purpose": "ai.training",
        "choice": "deny",
        "scope": "track",
    }
    cases: list[tuple[dict[str, Any], list[str]]] = [
        (base | {"works": []}, ["body", "track", "deny", "works"]),
        (base | {"works": [new_isrc(), "not-an-isrc"]}, ["body", "track", "deny", "works"]),
        (base | {"scope": "party", "works": [new_isrc()]}, ["body"]),
        (base | {"works": [f"ZZMNY{i:07d}" for i in range(10_001)]}, ["body", "track"]),
    ]
    for body, loc in cases:
        response = decide_many(stack, artist, body)
        assert response.status_code == 422, response.text
        errors = response.json()["detail"]["errors"]
        assert any(e["loc"][: len(loc)] == loc for e in errors), errors
    refused = decide_many(stack, artist, cases[1][0]).json()["detail"]["errors"]
    assert [e["loc"] for e in refused] == [["body", "track", "deny", "works", 1]]
    assert read(stack, artist, "chain")["events"] == 0


def test_a_retry_with_the_same_key_answers_the_first_answer(stack: Stack) -> None:
    artist = new_party()
    isrcs = [new_isrc() for _ in range(2)]
    body = {"party": artist, "purpose": "ai", "choice": "deny", "scope": "track", "works": isrcs}
    key = f"many-{uuid.uuid4()}"
    first = decide_many(stack, artist, body, key)
    again = decide_many(stack, artist, body, key)
    assert (first.status_code, again.status_code) == (202, 202), (first.text, again.text)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    changed = decide_many(stack, artist, body | {"choice": "allow"}, key)
    assert changed.status_code == 422, changed.text
    assert read(stack, artist, "chain")["events"] == 1

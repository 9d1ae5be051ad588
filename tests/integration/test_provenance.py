"""Idempotency keys and the tamper-evident history, on the real stack."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Mapping

import httpx
from aiokafka import AIOKafkaProducer

from consentry_events import CONSENT_CHANGES, Choice, ConsentChanged, decode, encode
from consentry_stack.stack import Stack
from tests.support.events import record_at
from tests.support.http import chain
from tests.support.ids import new_party


def _post(
    stack: Stack, path: str, body: Mapping[str, object], subject: str, key: str | None = None
) -> httpx.Response:
    headers = stack.bearer(subject)
    if key is not None:
        headers["Idempotency-Key"] = key
    return httpx.post(f"{stack.write_url}{path}", json=body, headers=headers, timeout=15)


def _history(stack: Stack, party: str) -> list[dict[str, object]]:
    response = httpx.get(
        f"{stack.write_url}/v1/parties/{party}/history", headers=stack.bearer(party), timeout=15
    )
    decisions: list[dict[str, object]] = response.json()["decisions"]
    return decisions


def test_a_retried_write_returns_the_first_answer_and_no_second_event(stack: Stack) -> None:
    party = new_party()
    body = {"party": party, "purpose": "ai.training", "choice": "deny", "scope": "party"}
    key = f"retry-{uuid.uuid4()}"
    first = _post(stack, "/v1/decisions", body, party, key)
    again = _post(stack, "/v1/decisions", body, party, key)
    assert first.status_code == again.status_code == 202, (first.text, again.text)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert [d["decision_id"] for d in _history(stack, party)] == [first.json()["decision_id"]]

    different = _post(stack, "/v1/decisions", {**body, "choice": "allow"}, party, key)
    assert different.status_code == 422
    assert "different request" in different.json()["detail"]["message"]
    other_key = _post(stack, "/v1/decisions", body, party, f"other-{uuid.uuid4()}")
    assert other_key.status_code == 202
    assert other_key.json()["decision_id"] != first.json()["decision_id"]
    assert len(_history(stack, party)) == 2


def test_the_same_key_from_another_principal_is_another_request(stack: Stack) -> None:
    one, two = new_party(), new_party()
    key = f"shared-{uuid.uuid4()}"
    for party in (one, two):
        body = {"party": party, "purpose": "ai.dj", "choice": "deny", "scope": "party"}
        response = _post(stack, "/v1/decisions", body, party, key)
        assert response.status_code == 202
        assert "idempotent-replayed" not in response.headers
        assert len(_history(stack, party)) == 1


async def _record_at(bootstrap: str, partition: int, offset: int) -> tuple[bytes, bytes]:
    record = await record_at(bootstrap, CONSENT_CHANGES.name, partition, offset)
    assert record.key is not None
    assert record.value is not None
    return record.key, record.value


async def _publish(stack: Stack, partition: int, key: bytes, value: bytes) -> int:
    """Written straight to the log, validly signed: what a leaked event key could do."""
    [headers] = stack.event_signer().sign(CONSENT_CHANGES.name, [(key, value)])
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka.bootstrap, acks="all")
    await producer.start()
    try:
        meta = await producer.send_and_wait(
            CONSENT_CHANGES.name, value, key=key, partition=partition, headers=headers
        )
        return int(meta.offset)
    finally:
        await producer.stop()


def _verify_cli(stack: Stack, party: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "consentry_admin",
            "verify-chain",
            party,
            "--bootstrap",
            stack.kafka.bootstrap,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CONSENTRY_AUDIT_EVENT_KEYS_FILE": str(stack.event_key_set)},
    )


def test_the_chain_verifies_and_points_at_a_forged_record(stack: Stack) -> None:
    party = new_party()
    accepted = []
    for purpose, choice in (("ai.training", "deny"), ("ai.dj", "deny"), ("ai.training", "allow")):
        body = {"party": party, "purpose": purpose, "choice": choice, "scope": "party"}
        response = _post(stack, "/v1/decisions", body, party)
        assert response.status_code == 202
        accepted.append(response.json())
    grant = {"party": party, "delegate": new_party("label"), "purpose": "ai", "action": "grant"}
    assert _post(stack, "/v1/delegations", grant, party).status_code == 202

    intact = chain(stack, party)
    assert intact["intact"] is True
    assert intact["events"] == 4
    assert intact["first_broken"] is None
    cli = _verify_cli(stack, party)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert json.loads(cli.stdout)["first_broken"] is None

    # Forge: the second decision again, its choice flipped, slipped into the log -- under
    # a valid signature (a leaked key; unsigned ones are test_signed_events.py's).
    original = accepted[1]
    key, value = asyncio.run(
        _record_at(stack.kafka.bootstrap, original["partition"], original["offset"])
    )
    event = decode(value)
    assert isinstance(event, ConsentChanged)
    forged = event.model_copy(update={"choice": Choice.ALLOW, "decision_id": uuid.uuid4()})
    forged_offset = asyncio.run(_publish(stack, original["partition"], key, encode(forged)))
    # Later writes chain on as usual; the forgery stays the first broken link.
    body = {"party": party, "purpose": "ai.dj", "choice": "deny", "scope": "party"}
    assert _post(stack, "/v1/decisions", body, party).status_code == 202

    broken = chain(stack, party)
    assert broken["intact"] is False
    assert broken["events"] == 6
    link = broken["first_broken"]
    assert isinstance(link, dict)
    assert link["offset"] == forged_offset
    assert link["event_id"] == str(forged.decision_id)
    assert link["found_prev_hash"] == event.prev_hash
    assert link["expected_prev_hash"] != event.prev_hash
    assert broken["first_bad_signature"] is None
    cli = _verify_cli(stack, party)
    assert cli.returncode == 1
    assert json.loads(cli.stdout)["first_broken"]["offset"] == forged_offset

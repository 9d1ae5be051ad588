"""Network trouble between real processes, through a TCP proxy the test controls:
write API <-> Kafka, and materialiser <-> Redis. No wrong allow; an unknown outcome is
reported as such, and its retry with the same Idempotency-Key makes exactly one change."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from consentry_stack.stack import Stack
from tests.faults.proxy import FaultProxy, Mode, proxied_stack
from tests.support.eventually import eventually
from tests.support.fault_settings import SHORT_TIMEOUTS
from tests.support.http import await_answer, import_tracks, register
from tests.support.ids import new_isrc, new_party, new_upc
from tests.support.log import replay_log
from tests.support.state import compare
from tests.support.watch import Answered, watch_checks


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[Stack, FaultProxy, FaultProxy]]:
    with proxied_stack(tmp_path / "stack", SHORT_TIMEOUTS) as running:
        yield running


def _decide(stack: Stack, party: str, choice: str, key: str, timeout: float = 30) -> httpx.Response:
    body = {"party": party, "purpose": "ai.training", "choice": choice, "scope": "party"}
    headers = {**stack.bearer(party), "Idempotency-Key": key}
    return httpx.post(
        f"{stack.write_url}/v1/decisions", json=body, headers=headers, timeout=timeout
    )


def _history(stack: Stack, party: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{stack.write_url}/v1/parties/{party}/history", headers=stack.bearer(party), timeout=30
    )
    decisions: list[dict[str, Any]] = response.json()["decisions"]
    return decisions


def _retry_until_answered(stack: Stack, party: str, choice: str, key: str) -> httpx.Response:
    def answered() -> httpx.Response | None:
        response = _decide(stack, party, choice, key)
        assert response.status_code in (202, 409, 503), response.text
        return response if response.status_code == 202 else None

    return eventually(answered, 60, f"{party}'s retry answered 202", poll_s=0.5)


@pytest.mark.parametrize("fault", [Mode.DROP_RESPONSES, Mode.BLACKHOLE, Mode.RESET])
def test_write_path_faults_answer_unknown_and_a_retry_makes_one_change(
    proxied: tuple[Stack, FaultProxy, FaultProxy], fault: Mode
) -> None:
    stack, kafka, _ = proxied
    party = new_party()
    assert _decide(stack, party, "allow", f"warm-{uuid.uuid4()}").status_code == 202

    key = f"opt-out-{uuid.uuid4()}"
    kafka.set(fault)
    first = _decide(stack, party, "deny", key)
    assert first.status_code == 503, first.text
    outcome = first.json()["detail"]["outcome"]
    if fault is Mode.DROP_RESPONSES:
        assert outcome == "unknown", first.text  # the broker wrote it; nobody heard back
        assert "may or may not have been recorded" in first.json()["detail"]["message"]
    else:
        assert outcome in ("unknown", "not_written"), first.text
    kafka.set(Mode.PASS)

    retried = _retry_until_answered(stack, party, "deny", key)
    again = _decide(stack, party, "deny", key)
    assert again.json() == retried.json()
    denials = [d for d in _history(stack, party) if d["choice"] == "deny"]
    assert len(denials) == 1, denials
    assert denials[0]["decision_id"] == retried.json()["decision_id"]
    assert denials[0]["offset"] == retried.json()["offset"]
    chain = httpx.get(
        f"{stack.write_url}/v1/parties/{party}/chain", headers=stack.bearer(party), timeout=30
    ).json()
    assert chain["intact"] is True, chain


def test_materialiser_redis_faults_never_give_a_wrong_allow(
    proxied: tuple[Stack, FaultProxy, FaultProxy],
) -> None:
    stack, _, redis_proxy = proxied
    artist, isrc = new_party(), new_isrc()
    register(stack, isrc, new_upc(), [artist])
    await_answer(stack, isrc, "ai.training", "allow")
    opted_out_at: list[float] = []
    bound_s = float(SHORT_TIMEOUTS["CONSENTRY_CHECK_HEARTBEAT_BOUND_S"])

    async def scenario() -> list[Answered]:
        watching = asyncio.create_task(watch_checks(stack, isrc, "ai.training", 34))
        for mode, delay in (
            (Mode.DELAY, 0.3),
            (Mode.BLACKHOLE, 0.0),
            (Mode.DROP_RESPONSES, 0.0),
            (Mode.RESET, 0.0),
        ):
            redis_proxy.set(mode, delay)
            if not opted_out_at:  # the opt-out arrives while the first fault is on
                response = await asyncio.to_thread(
                    _decide, stack, artist, "deny", str(uuid.uuid4())
                )
                assert response.status_code == 202, response.text
                opted_out_at.append(time.monotonic())
            await asyncio.sleep(6)
            redis_proxy.set(Mode.PASS)
            await asyncio.sleep(2)
        return await watching

    answers = asyncio.run(scenario())
    assert all(a.status == 200 for a in answers), answers
    late = [a for a in answers if a.at > opted_out_at[0] + bound_s + 1]
    assert late, "checks ran during the faults"
    wrong = [a for a in late if a.answer == "allow"]
    assert not wrong, f"allowed after the opt-out: {wrong[:5]}"
    bases = {a.basis for a in late}
    assert "unverifiable" in bases, "a blackholed materialiser makes answers unverifiable"
    await_answer(stack, isrc, "ai.training", "deny")

    async def converged() -> None:
        client = Redis.from_url(stack.redis.url)
        try:
            await compare(client, await replay_log(stack))
        finally:
            await client.aclose()

    asyncio.run(converged())


def _check_all(stack: Stack, isrcs: list[str], purpose: str) -> set[str]:
    """One batch check of every track: the answers it gave (one read of the state)."""
    response = httpx.post(
        f"{stack.check_url}/v1/check",
        json={"isrcs": isrcs, "purpose": purpose},
        headers=stack.bearer("service:fault-watch"),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return {a["answer"] for a in response.json()["answers"]}


@pytest.mark.parametrize("fault", [Mode.DROP_RESPONSES, Mode.BLACKHOLE])
def test_a_decision_on_many_works_is_whole_or_absent_and_a_retry_writes_it_once(
    proxied: tuple[Stack, FaultProxy, FaultProxy], fault: Mode
) -> None:
    """The write API loses the broker mid-request: every read of the state sees all the
    works decided or none (one record, applied in one script), and the retry under the
    same key leaves exactly one event in the party's history."""
    stack, kafka, _ = proxied
    label, upc = new_party("label"), new_upc()
    isrcs = [new_isrc() for _ in range(200)]
    tracks = [{"isrc": isrc, "upc": upc, "parties": [new_party(), label]} for isrc in isrcs]
    imported = import_tracks(stack, tracks)
    assert imported.status_code == 200, imported.text
    await_answer(stack, isrcs[-1], "ai.training", "allow")
    eventually(lambda: _check_all(stack, isrcs, "ai.training") == {"allow"}, 10, "all applied")

    body = {
        "party": label,
        "purpose": "ai.training",
        "choice": "deny",
        "scope": "track",
        "works": isrcs,
    }
    headers = {**stack.bearer(label), "Idempotency-Key": f"many-{uuid.uuid4()}"}

    def send() -> httpx.Response:
        return httpx.post(
            f"{stack.write_url}/v1/decisions/many", json=body, headers=headers, timeout=30
        )

    kafka.set(fault)
    first = send()
    assert first.status_code == 503, first.text
    assert first.json()["detail"]["outcome"] in ("unknown", "not_written"), first.text
    seen = [_check_all(stack, isrcs, "ai.training") for _ in range(20)]
    kafka.set(Mode.PASS)
    seen += [_check_all(stack, isrcs, "ai.training") for _ in range(20)]
    assert all(len(answers) == 1 for answers in seen), seen  # never some of the works

    def answered() -> httpx.Response | None:
        response = send()
        assert response.status_code in (202, 409, 503), response.text
        return response if response.status_code == 202 else None

    retried = eventually(answered, 60, "the retry answered 202", poll_s=0.5)
    token = retried.json()["token"]
    response = httpx.post(
        f"{stack.check_url}/v1/check",
        json={"isrcs": isrcs, "purpose": "ai.training", "token": token},
        headers=stack.bearer("service:fault-watch"),
        timeout=10,
    )
    assert {a["answer"] for a in response.json()["answers"]} == {"deny"}
    history = _history(stack, label)
    assert len(history) == len(isrcs), len(history)
    assert {d["offset"] for d in history} == {retried.json()["offset"]}
    chain = httpx.get(
        f"{stack.write_url}/v1/parties/{label}/chain", headers=stack.bearer(label), timeout=30
    ).json()
    assert (chain["intact"], chain["events"]) == (True, 1), chain

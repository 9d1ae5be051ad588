"""Issue 7, fault 9: a soak. Steady writes and checks while faults are injected at random;
every operation is recorded as ok, failed or unknown, and a checker then verifies:

1. every acknowledged opt-out is in the log at its token and was applied;
2. no check answered allow once an opt-out's offset had been applied -- every check
   carries the consistency token of its party's last acknowledged write, so the state
   it answered from holds at least that prefix of the party's log;
3. Redis, and every track's answer, equal an independent replay of the log.

The suite runs it for ``CONSENTRY_SOAK_S`` seconds (45 by default); ``make soak`` runs
it for ten minutes and writes its report to ``CONSENTRY_SOAK_REPORT``.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from consentry_events import CONSENT_CHANGES, AnyEvent, Choice, ConsentChanged, Scope
from consentry_events.logged import LoggedEvent
from consentry_events.tokens import Token
from consentry_stack.kafka import KafkaBroker
from consentry_stack.stack import Stack
from tests.faults.proxy import FaultProxy, Mode, proxied_stack
from tests.faults.soak_ledger import Check, Ledger, Write, wrong_allows
from tests.support.acknowledged import Acknowledged, unaccounted
from tests.support.events import decision_event
from tests.support.eventually import eventually_async
from tests.support.fault_settings import SHORT_TIMEOUTS
from tests.support.http import SERVICE, await_answer, register
from tests.support.log import replay_log
from tests.support.state import compare

SOAK_S = float(os.environ.get("CONSENTRY_SOAK_S", "45"))
PARTIES = 24
SETTINGS = {
    **SHORT_TIMEOUTS,
    "CONSENTRY_CHECK_HEARTBEAT_BOUND_S": "3",
    "CONSENTRY_MATERIALISER_SESSION_TIMEOUT_S": "6",
}


@pytest.fixture
def soak_stack(tmp_path: Path) -> Iterator[tuple[Stack, FaultProxy, FaultProxy]]:
    with proxied_stack(tmp_path / "stack", SETTINGS) as running:
        yield running


async def _write(http: httpx.AsyncClient, stack: Stack, rec: Ledger, write: Write) -> None:
    body = {
        "party": write.party,
        "purpose": "ai.training",
        "choice": write.choice,
        "scope": "party",
    }
    headers = {**stack.bearer(write.party), "Idempotency-Key": write.key}
    write.attempts += 1
    try:
        response = await http.post(f"{stack.write_url}/v1/decisions", json=body, headers=headers)
    except httpx.HTTPError:
        write.outcome = "unknown"
        return
    if response.status_code == 202:
        accepted = response.json()
        write.outcome = "ok"
        write.partition, write.offset = accepted["partition"], accepted["offset"]
        write.decision_id = accepted["decision_id"]
        latest = rec.acknowledged.get(write.party)
        if latest is None or latest.offset < write.offset:
            rec.acknowledged[write.party] = write
    elif response.status_code == 503 and response.json()["detail"].get("outcome") == "unknown":
        write.outcome = "unknown"
    elif response.status_code in (409, 503):
        write.outcome = "failed" if write.outcome == "pending" else write.outcome
    else:
        raise AssertionError(f"unexpected answer {response.status_code}: {response.text}")


async def _writer(stack: Stack, rec: Ledger, parties: list[str], until: float, seed: int) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(timeout=30) as http:
        while time.monotonic() < until:
            write = Write(rng.choice(parties), rng.choice(["allow", "deny"]), str(uuid.uuid4()))
            rec.writes.append(write)
            await _write(http, stack, rec, write)
            await asyncio.sleep(rng.uniform(0.01, 0.08))


async def _checker(
    stack: Stack, rec: Ledger, tracks: dict[str, str], until: float, seed: int
) -> None:
    rng = random.Random(seed)
    headers = stack.bearer(SERVICE)
    async with httpx.AsyncClient(timeout=10) as http:
        while time.monotonic() < until:
            isrc = rng.choice(sorted(tracks))
            party = tracks[isrc]
            latest = rec.acknowledged.get(party)
            params = {"isrc": isrc, "purpose": "ai.training"}
            if latest is not None:
                token = Token(CONSENT_CHANGES.name, latest.partition, latest.offset)
                params["token"] = str(token)
            try:
                response = await http.get(
                    f"{stack.check_url}/v1/check", params=params, headers=headers
                )
            except httpx.HTTPError:
                rec.unanswered_checks += 1  # nothing was allowed
                continue
            assert response.status_code == 200, response.text
            body = response.json()
            rec.checks.append(
                Check(
                    isrc,
                    party,
                    -1 if latest is None else latest.offset,
                    body["answer"],
                    body["reasons"][0]["basis"],
                    time.time_ns() // 1_000_000,
                )
            )
            await asyncio.sleep(rng.uniform(0.0, 0.03))


async def _faults(
    stack: Stack, kafka: FaultProxy, redis: FaultProxy, rec: Ledger, until: float, seed: int
) -> None:
    rng = random.Random(seed)
    while time.monotonic() < until - 6:
        await asyncio.sleep(rng.uniform(1.0, 3.0))
        fault = rng.choice(
            [
                "materialiser_sigkill",
                "materialiser_sigstop",
                "broker_sigstop",
                *(f"kafka_{m.value}" for m in Mode if m is not Mode.PASS),
                *(f"redis_{m.value}" for m in Mode if m is not Mode.PASS),
            ]
        )
        rec.faults[fault] += 1
        hold = rng.uniform(1.0, 4.0)
        materialiser = stack.services["materialiser"]
        if fault == "materialiser_sigkill":
            materialiser.signal(signal.SIGKILL)
            await asyncio.sleep(hold)
            await asyncio.to_thread(materialiser.stop)
            await asyncio.to_thread(materialiser.start)
        elif fault == "materialiser_sigstop":
            materialiser.signal(signal.SIGSTOP)
            await asyncio.sleep(hold)
            materialiser.signal(signal.SIGCONT)
        elif fault == "broker_sigstop":
            assert isinstance(stack.kafka, KafkaBroker)
            stack.kafka.process.signal(signal.SIGSTOP)
            await asyncio.sleep(hold)
            stack.kafka.process.signal(signal.SIGCONT)
        else:
            proxy = kafka if fault.startswith("kafka_") else redis
            proxy.set(Mode(fault.split("_", 1)[1]), delay_s=rng.uniform(0.05, 0.5))
            await asyncio.sleep(hold)
            proxy.set(Mode.PASS)


async def _settle_unknowns(stack: Stack, rec: Ledger) -> None:
    """Retry every write whose outcome was unknown with its key until it is answered."""
    async with httpx.AsyncClient(timeout=30) as http:
        for write in rec.writes:
            if write.outcome not in ("unknown", "pending"):
                continue

            async def answered(write: Write = write) -> bool:
                await _write(http, stack, rec, write)
                return write.outcome not in ("unknown", "pending")

            await eventually_async(answered, 60, f"{write} settled", poll_s=0.5)


def test_soak_random_faults_lose_nothing_and_never_allow_wrongly(
    soak_stack: tuple[Stack, FaultProxy, FaultProxy],
) -> None:
    stack, kafka, redis_proxy = soak_stack
    seed = int(os.environ.get("CONSENTRY_SOAK_SEED", str(random.randrange(10**6))))
    tag = uuid.uuid4().hex[:8]
    parties = [f"artist:soak{tag}{i}" for i in range(PARTIES)]
    tracks = {f"ZZSOK{i:07d}": party for i, party in enumerate(parties)}
    for isrc, party in tracks.items():
        register(stack, isrc, "000000000777", [party])
    for isrc in tracks:
        await_answer(stack, isrc, "ai.training", "allow", timeout_s=15)
    rec = Ledger()
    started = time.monotonic()

    async def run() -> None:
        until = time.monotonic() + SOAK_S
        await asyncio.gather(
            *(_writer(stack, rec, parties, until, seed + i) for i in range(3)),
            *(_checker(stack, rec, tracks, until, seed + 10 + i) for i in range(3)),
            _faults(stack, kafka, redis_proxy, rec, until, seed + 20),
        )
        kafka.set(Mode.PASS)
        redis_proxy.set(Mode.PASS)
        await _settle_unknowns(stack, rec)

    asyncio.run(run())
    report = asyncio.run(_verify(stack, rec))
    report.update(
        seconds=round(time.monotonic() - started, 1),
        soak_s=SOAK_S,
        seed=seed,
        faults=dict(rec.faults),
    )
    print(f"\n[soak] {json.dumps(report, sort_keys=True)}")
    if path := os.environ.get("CONSENTRY_SOAK_REPORT"):
        Path(path).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    assert report["wrong_allows"] == 0
    assert report["lost_acknowledged"] == 0
    assert report["mismatches"] == 0
    # one fault every 2-7 s (a pause, then a hold), none in the last 6 s
    assert sum(rec.faults.values()) >= SOAK_S / 10, "faults were injected throughout"


async def _verify(stack: Stack, rec: Ledger) -> dict[str, Any]:
    acknowledged = [
        Acknowledged(w.party, w.partition, w.offset, w.decision_id)
        for w in rec.writes
        if w.outcome == "ok"
    ]
    lost = await unaccounted(stack, acknowledged)
    for problem in lost[:10]:
        print(f"[soak] lost: {problem}")
    client = Redis.from_url(stack.redis.url)
    try:
        log: list[LoggedEvent[AnyEvent]] = []
        replay = await replay_log(stack, log)
        mismatches = 0
        try:
            await compare(client, replay)
        except AssertionError as exc:
            mismatches = 1
            print(f"[soak] mismatch: {exc}")
    finally:
        await client.aclose()
    wrong = wrong_allows(rec, log)
    for check in wrong[:10]:
        print(f"[soak] wrong allow: {asdict(check)}")
    outcomes = Counter(w.outcome for w in rec.writes)
    return {
        "changes_attempted": len(rec.writes),
        "changes_acknowledged": outcomes["ok"],
        "changes_failed": outcomes["failed"],
        "changes_retried_after_unknown": sum(1 for w in rec.writes if w.attempts > 1),
        "changes_in_log": sum(1 for e in log if isinstance(e.event, ConsentChanged)),
        "checks": len(rec.checks),
        "checks_by_basis": dict(Counter(c.basis for c in rec.checks)),
        "checks_unanswered": rec.unanswered_checks,
        "faults_injected": sum(rec.faults.values()),
        "lost_acknowledged": len(lost),
        "wrong_allows": len(wrong),
        "mismatches": mismatches,
    }


def test_the_checker_catches_a_wrong_allow() -> None:
    """The wrong-allow rule itself, on a made-up record: it must be able to fail."""

    def entry(offset: int, choice: Choice, at_ms: int) -> LoggedEvent[AnyEvent]:
        event = decision_event("artist:x", "ai.training", choice, Scope.PARTY)
        return LoggedEvent(CONSENT_CHANGES.name, 0, offset, event, "", at_ms)

    now = int(datetime.now(UTC).timestamp() * 1000)
    log = [entry(5, Choice.ALLOW, now - 30), entry(9, Choice.DENY, now - 20)]
    rec = Ledger()
    rec.checks = [
        Check("ZZSOK0000001", "artist:x", 9, "allow", "decision", now),  # wrong
        Check("ZZSOK0000001", "artist:x", 5, "allow", "decision", now),  # token before deny
        Check("ZZSOK0000001", "artist:x", 9, "deny", "decision", now),
    ]
    assert wrong_allows(rec, log) == [rec.checks[0]]
    log.append(entry(12, Choice.ALLOW, now - 10))  # a later allow explains an allow
    assert wrong_allows(rec, log) == []

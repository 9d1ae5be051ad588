"""Issue 26: every consent event provably Consentry's. A rogue producer with write access
to the consent topic appends a well-formed, correctly chained opt-in -- unsigned, signed
with a key nobody trusts, and with a genuine signature over other bytes: no answer
changes, each is dead-lettered with its reason and counted, and the chain verifier names
the first. The event key rotates on the running stack: events of the new key verify at
once, the old key's keep verifying, and a retired key's events are refused. The
cut-over ``consentry-admin keys cut-over`` prints admits older unsigned history as legacy
and nothing unsigned after it."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer

from consentry_auth import generate_keys, key_set_json, parse_keys
from consentry_auth.keyset import LOOK_EVERY_S, KeySet
from consentry_domain.chain import verify_chain
from consentry_events import (
    CATALOGUE,
    CONSENT_CHANGES,
    Choice,
    ConsentChanged,
    Scope,
    decode,
    encode,
)
from consentry_events.signing import KEY_ID, Verdict
from consentry_kafka import KafkaConnection, party_records
from consentry_kafka.signatures import CutOver, EventSigner, EventVerifier, Headers
from consentry_stack.stack import Stack
from tests.support.events import decision_event, record_at
from tests.support.eventually import eventually
from tests.support.http import await_answer, chain, check, decide, register
from tests.support.ids import new_isrc, new_party, new_upc
from tests.support.log import dead_letters


async def rogue_writes(stack: Stack, records: list[tuple[bytes, bytes, Headers]]) -> list[int]:
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka.bootstrap, acks="all")
    await producer.start()
    try:
        sent = [
            await producer.send_and_wait(CONSENT_CHANGES.name, v, key=k, headers=h or None)
            for k, v, h in records
        ]
    finally:
        await producer.stop()
    return [m.offset for m in sent]


def refused(stack: Stack, service: str) -> dict[str, float]:
    text = httpx.get(f"http://127.0.0.1:{stack.metrics_port(service)}/metrics", timeout=5).text
    pattern = rf'^consentry_{service}_events_refused_total\{{[^}}]*reason="(\w+)"[^}}]*\}} (\S+)$'
    found: dict[str, float] = {}
    for reason, value in re.findall(pattern, text, re.M):
        found[reason] = found.get(reason, 0.0) + float(value)
    return found


def a_key(directory: Path) -> tuple[Path, bytes]:
    """A fresh Ed25519 pair: the private key's file and the public key's PEM."""
    private, public = generate_keys()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "private.pem"
    path.write_bytes(private)
    return path, public


def test_a_rogue_producer_changes_no_answer_and_is_named(stack: Stack, tmp_path: Path) -> None:
    party, isrc = new_party(), new_isrc()
    register(stack, isrc, new_upc(), [party])
    decide(stack, party, "ai.training", "deny", "party")
    await_answer(stack, isrc, "ai.training", "deny")
    head = chain(stack, party)["head"]
    assert isinstance(head, str)
    before = {s: refused(stack, s) for s in ("materialiser", "enforcer")}

    # The rogue's opt-in, chained on the party's real head: it would allow training.
    last = decide(stack, party, "ai.dj", "allow", "party")
    opt_in = decode(
        asyncio.run(
            record_at(
                stack.kafka.bootstrap, CONSENT_CHANGES.name, last["partition"], last["offset"]
            )
        ).value
    )
    assert isinstance(opt_in, ConsentChanged)
    key = party.encode()
    rogue_id = uuid.uuid4()
    forged = encode(
        opt_in.model_copy(
            update={"purpose": "ai.training", "prev_hash": head, "decision_id": rogue_id}
        )
    )
    rogue_path, _ = a_key(tmp_path / "rogue")
    [rogue_headers] = EventSigner(rogue_path).sign(CONSENT_CHANGES.name, [(key, forged)])
    # A genuine signature, over other bytes: the forgery carried under it.
    [lifted] = stack.event_signer().sign(CONSENT_CHANGES.name, [(key, forged + b" ")])
    offsets = asyncio.run(
        rogue_writes(
            stack, [(key, forged, []), (key, forged, rogue_headers), (key, forged, lifted)]
        )
    )

    # A genuine write after them, on the same partition: once it is applied, so are they.
    decide(stack, party, "ai.generation", "deny", "party")
    await_answer(stack, isrc, "ai.generation", "deny")
    assert check(stack, isrc, "ai.training")["answer"] == "deny"

    sources = {f"{CONSENT_CHANGES.name}:{last['partition']}:{o}" for o in offsets}
    reasons = asyncio.run(dead_letters(stack.kafka.bootstrap, sources))
    assert sorted(reasons.values()) == [
        "not validly signed: bad_signature",
        "not validly signed: unknown_key",
        "not validly signed: unsigned",
    ]
    for service in ("materialiser", "enforcer"):

        def counted(service: str = service) -> bool:
            now = refused(stack, service)
            return all(
                now.get(r, 0) >= before[service].get(r, 0) + 1
                for r in ("unsigned", "unknown_key", "bad_signature")
            )

        eventually(counted, timeout_s=10, what=f"the {service} counting its refusals")

    report = chain(stack, party)
    assert report["intact"] is False
    assert report["first_broken"] is None, "the genuine events after them chain on"
    assert report["first_bad_signature"] == {
        "partition": last["partition"],
        "offset": offsets[0],
        "event_id": str(rogue_id),
        "verdict": "unsigned",
    }
    assert report["legacy"] == 0


def replace(path: Path, data: bytes) -> None:
    """Write ``path`` whole under another name and rename it over: never read half-written."""
    temporary = path.with_suffix(".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    temporary.replace(path)


def signer_of(stack: Stack, written: dict[str, int]) -> str:
    record = asyncio.run(
        record_at(
            stack.kafka.bootstrap, CONSENT_CHANGES.name, written["partition"], written["offset"]
        )
    )
    kid: bytes = dict(record.headers)[KEY_ID]
    return kid.decode()


def test_the_event_key_rotates_on_a_running_stack(stack: Stack, tmp_path: Path) -> None:
    original_private = stack.event_signing_key.read_bytes()
    original_set = stack.event_key_set.read_bytes()
    old_id = stack.event_signer().key_id
    new_path, new_public = a_key(tmp_path / "new")
    [new_id] = parse_keys(new_public)
    party, isrc = new_party(), new_isrc()
    register(stack, isrc, new_upc(), [party])
    # The new key stays trusted afterwards: the events it signs are history now.
    both = key_set_json({**parse_keys(original_set), **parse_keys(new_public)}).encode()
    try:
        assert signer_of(stack, decide(stack, party, "ai.training", "deny", "party")) == old_id

        # 1. the readers trust both keys; 2. the write API signs with the new one.
        refusals = sum(refused(stack, "materialiser").values())
        replace(stack.event_key_set, both)
        replace(stack.event_signing_key, new_path.read_bytes())

        def signs_with_the_new_key() -> dict[str, int] | None:
            written: dict[str, int] = decide(stack, party, "ai.dj", "deny", "party")
            return written if signer_of(stack, written) == new_id else None

        eventually(
            signs_with_the_new_key, timeout_s=10, what="the write API signing with the new key"
        )
        await_answer(stack, isrc, "ai.dj", "deny")
        report = chain(stack, party)
        assert report["intact"] is True, report  # the old key's events still verify
        assert sum(refused(stack, "materialiser").values()) == refusals, "none refused"
    finally:
        replace(stack.event_signing_key, original_private)
    eventually(
        lambda: signer_of(stack, decide(stack, party, "ai", "deny", "party")) == old_id,
        timeout_s=10,
        what="the write API signing with the original key again",
    )

    # A retired key's events are refused from then on, within the second every reader
    # takes to look at its file again (a third key, added and retired, that signed
    # nothing while trusted: a leaked key's new events).
    leaked_path, leaked_public = a_key(tmp_path / "leaked")
    replace(
        stack.event_key_set,
        key_set_json({**parse_keys(both), **parse_keys(leaked_public)}).encode(),
    )
    time.sleep(2 * LOOK_EVERY_S)
    replace(stack.event_key_set, both)
    time.sleep(2 * LOOK_EVERY_S)
    key = party.encode()
    forged = history_event(party, Choice.ALLOW)
    [headers] = EventSigner(leaked_path).sign(CONSENT_CHANGES.name, [(key, forged)])
    [offset] = asyncio.run(rogue_writes(stack, [(key, forged, headers)]))
    partition = decide(stack, party, "ai.generation", "deny", "party")["partition"]
    await_answer(stack, isrc, "ai.generation", "deny")
    source = f"{CONSENT_CHANGES.name}:{partition}:{offset}"
    reasons = asyncio.run(dead_letters(stack.kafka.bootstrap, {source}))
    assert reasons == {source: "not validly signed: unknown_key"}
    assert check(stack, isrc, "ai.training")["answer"] == "deny"


def test_the_cut_over_admits_older_unsigned_history_as_legacy_and_nothing_after(
    stack: Stack,
) -> None:
    party = new_party()
    [before] = asyncio.run(rogue_writes(stack, [(party.encode(), history_event(party), [])]))
    run = subprocess.run(
        [sys.executable, "-m", "consentry_admin", "keys", "cut-over"],
        env={**os.environ, "CONSENTRY_KAFKA_BOOTSTRAP": stack.kafka.bootstrap},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    cut_over = CutOver.parse(run.stdout.strip())
    assert {t for t, _ in cut_over.signed_from} == {CONSENT_CHANGES.name, CATALOGUE.name}
    assert len(cut_over.signed_from) == CONSENT_CHANGES.partitions + CATALOGUE.partitions
    [after] = asyncio.run(rogue_writes(stack, [(party.encode(), history_event(party), [])]))
    reader = KafkaConnection(
        stack.kafka.bootstrap, trust=EventVerifier(KeySet(stack.event_key_set), cut_over)
    )
    found = asyncio.run(party_records(reader, party))
    assert [(e.offset, v) for e, v in found] == [
        (before, Verdict.LEGACY),
        (after, Verdict.UNSIGNED),
    ]
    report = verify_chain(party, found)
    assert report.legacy == 1
    assert report.first_bad_signature is not None
    assert report.first_bad_signature.offset == after


def history_event(party: str, choice: Choice = Choice.DENY) -> bytes:
    """A decision as a producer other than the write API writes it."""
    return encode(decision_event(party, "ai.training", choice, Scope.PARTY))

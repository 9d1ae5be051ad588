"""Shared by the fault tests: a shaped history of changes, producing it, waiting on it,
and comparing Redis with a clean replay of the log."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from redis.asyncio import Redis

from consentry_auth.kafka import KafkaConnection
from consentry_domain import ConsentState, load_taxonomy
from consentry_events import (
    CATALOGUE,
    CONSENT_CHANGES,
    AnyEvent,
    Choice,
    ConsentChanged,
    DecodeError,
    Scope,
    TrackChanged,
    decode,
    encode,
    partition_key,
)
from consentry_events.tokens import parse_token
from consentry_materialiser.rebuild import partition_total
from consentry_sdk import ConsentChecker
from consentry_stack.stack import Stack
from consentry_state import StateReader, keys
from consentry_state.slotcodec import decode_slot
from tests.conftest import new_party
from tests.integration.events import decision_event, record_at, track_event

TAXONOMY = load_taxonomy()
PURPOSES = sorted(TAXONOMY.defaults)


def history(n_tracks: int, n_decisions: int, seed: int) -> list[ConsentChanged | TrackChanged]:
    rng = random.Random(seed)
    parties = [f"artist:crash{i}" for i in range(40)] + [f"label:crash{i}" for i in range(5)]
    tracks = []
    for i in range(n_tracks):
        chosen = [*rng.sample(parties[:40], rng.randint(1, 2)), parties[40 + i % 5]]
        tracks.append(track_event(f"ZZCRS{i:07d}", f"{i // 10:012d}", chosen))
    events: list[ConsentChanged | TrackChanged] = list(tracks)
    soon = datetime.now(UTC) + timedelta(days=1)
    for _ in range(n_decisions):
        track = rng.choice(tracks)
        party = rng.choice(track.parties)
        scope = rng.choice(list(Scope))
        choice = rng.choice([Choice.ALLOW, Choice.DENY, Choice.DENY, Choice.WITHDRAWN])
        window = choice is not Choice.WITHDRAWN and rng.random() < 0.1
        events.append(
            decision_event(
                party,
                rng.choice(PURPOSES),
                choice,
                scope,
                upc=track.upc,
                isrc=track.isrc,
                end=int(soon.timestamp() * 1000) if window else None,
            )
        )
    rng.shuffle(events)  # interleaves parties; each party's own order is its log order
    return events


async def produce(
    bootstrap: str, events: list[ConsentChanged | TrackChanged], replay: ConsentState
) -> dict[str, int]:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, enable_idempotence=True
    )
    await producer.start()
    marks: dict[str, int] = {}
    try:
        pending = []
        for event in events:
            topic = CONSENT_CHANGES.name if isinstance(event, ConsentChanged) else CATALOGUE.name
            pending.append(await producer.send(topic, encode(event), key=partition_key(event)))
        for event, meta in zip(events, await asyncio.gather(*pending), strict=True):
            replay.apply(event, meta.offset)
            field = keys.watermark_field(meta.topic, meta.partition)
            marks[field] = max(marks.get(field, -1), meta.offset)
    finally:
        await producer.stop()
    return marks


async def applied_fraction(redis: Redis, marks: dict[str, int]) -> float:
    current = await redis.hmget(keys.WATERMARKS, list(marks))
    done = sum(min(int(c), m) + 1 for c, m in zip(current, marks.values(), strict=True) if c)
    return done / sum(m + 1 for m in marks.values())


async def wait_fraction(
    redis: Redis, marks: dict[str, int], fraction: float, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while await applied_fraction(redis, marks) < fraction:
        assert time.monotonic() < deadline, f"{fraction:.0%} not applied in {timeout_s}s"
        await asyncio.sleep(0.005)


async def wait_whole(redis: Redis, timeout_s: float) -> None:
    """Until the materialiser declares the state whole (and so records its freshness)."""
    deadline = time.monotonic() + timeout_s
    while not await redis.exists(keys.READY) or not await redis.exists(keys.FRESHNESS):
        assert time.monotonic() < deadline, "the state was not declared whole in time"
        await asyncio.sleep(0.05)


async def compare(redis: Redis, replay: ConsentState) -> None:
    for isrc, (offset, track) in replay.tracks.items():
        stored = await redis.hmget(keys.track_key(isrc), ["o", "p", "s"])
        assert stored == [
            str(offset).encode(),
            " ".join(track.parties).encode(),
            track.status.value.encode(),
        ], isrc
    for key, slot in replay.slots.items():
        raw = await redis.hget(keys.party_key(key.party), keys.slot_field(key))
        assert raw is not None, key
        assert decode_slot(raw) == slot, key
    stored_fields = sum(
        [await redis.hlen(keys.party_key(p)) for p in {k.party for k in replay.slots}]
    )
    assert stored_fields == len(replay.slots), "Redis holds a slot the log never made"
    checker = ConsentChecker(StateReader(redis), TAXONOMY)
    # After a failover the new owners must first vouch for their partitions' freshness;
    # until then every answer is rightly 'unverifiable'.
    deadline = time.monotonic() + 30
    while not await checker.verifiable():
        assert time.monotonic() < deadline, "the state never became verifiable"
        await asyncio.sleep(0.1)
    now = time.time_ns() // 1_000_000
    for purpose in PURPOSES:
        answers = await checker.check_many(sorted(replay.tracks), purpose)
        for isrc, answer in answers.items():
            assert answer == replay.check(isrc, purpose, TAXONOMY, now), (isrc, purpose)


async def write_for(
    stack: Stack, seconds: float, results: list[tuple[str, int, dict[str, object]]]
) -> None:
    """Post opt-outs back to back for ``seconds``; record every outcome."""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=30) as http:

        async def one(party: str) -> None:
            body = {"party": party, "purpose": "ai.training", "choice": "deny", "scope": "party"}
            try:
                response = await http.post(
                    f"{stack.write_url}/v1/decisions", json=body, headers=stack.bearer(party)
                )
                results.append((party, response.status_code, response.json()))
            except httpx.HTTPError as exc:
                results.append((party, 0, {"error": repr(exc)}))

        while time.monotonic() < deadline:
            await asyncio.gather(*(one(new_party()) for _ in range(5)))
            await asyncio.sleep(0.02)


async def in_log(bootstrap: str, partition: int, offset: int) -> ConsentChanged:
    record = await record_at(bootstrap, CONSENT_CHANGES.name, partition, offset)
    event = decode(record.value)
    assert isinstance(event, ConsentChanged)
    return event


async def verify_acknowledged(stack: Stack, accepted: list[tuple[str, dict[str, object]]]) -> None:
    """Every write answered 202 is in the log at its token and applied to Redis."""
    redis = Redis.from_url(stack.redis.url)
    try:
        for party, body in accepted:
            token = parse_token(str(body["token"]))
            event = await in_log(stack.kafka.bootstrap, token.partition, token.offset)
            assert (event.party, str(event.decision_id)) == (party, body["decision_id"])
            field = keys.watermark_field(token.topic, token.partition)
            deadline = time.monotonic() + 60
            while int(await redis.hget(keys.WATERMARKS, field) or -1) < token.offset:
                assert time.monotonic() < deadline, f"acknowledged {token} never applied"
                await asyncio.sleep(0.05)
    finally:
        await redis.aclose()


@dataclass(frozen=True, slots=True)
class LogRecord:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    event: AnyEvent


async def replay_log(bootstrap: str, seen: list[LogRecord] | None = None) -> ConsentState:
    """An independent replay: every record of both logs, from the start, into the
    reference model (each partition in its order; the merge does not depend on the
    order across partitions). ``seen`` collects the decoded records."""
    replay = ConsentState()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        total = await partition_total(KafkaConnection(bootstrap), [CONSENT_CHANGES.name])
        partitions = [
            TopicPartition(topic, p)
            for topic in (CONSENT_CHANGES.name, CATALOGUE.name)
            for p in range(total)  # both logs have the same number of partitions
        ]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, starts[tp])
        remaining = {tp for tp in partitions if starts[tp] < ends[tp]}
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=5000)
            for tp, records in fetched.items():
                for record in records:
                    if record.offset >= ends[tp]:
                        continue
                    try:
                        event = decode(record.value)
                    except DecodeError:
                        continue
                    replay.apply(event, record.offset)
                    if seen is not None:
                        seen.append(
                            LogRecord(
                                tp.topic, tp.partition, record.offset, record.timestamp, event
                            )
                        )
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return replay


@dataclass(frozen=True, slots=True)
class Answered:
    at: float
    """``time.monotonic()`` when the answer arrived."""
    status: int
    answer: str
    basis: str


async def watch_checks(stack: Stack, isrc: str, purpose: str, seconds: float) -> list[Answered]:
    """Check ``isrc`` over HTTP every 50 ms for ``seconds``; every answer, in order."""
    found: list[Answered] = []
    deadline = time.monotonic() + seconds
    headers = stack.bearer("service:fault-watch")
    async with httpx.AsyncClient(timeout=10) as http:
        while time.monotonic() < deadline:
            response = await http.get(
                f"{stack.check_url}/v1/check",
                params={"isrc": isrc, "purpose": purpose},
                headers=headers,
            )
            body = response.json() if response.status_code == 200 else {}
            basis = body["reasons"][0]["basis"] if body else ""
            found.append(
                Answered(time.monotonic(), response.status_code, body.get("answer", ""), basis)
            )
            await asyncio.sleep(0.05)
    return found

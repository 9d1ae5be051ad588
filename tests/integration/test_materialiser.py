"""The faust materialiser on the real stack: Redis ends equal to a replay; garbage dead-letters."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from redis.asyncio import Redis

from consentry_domain import ConsentState, load_taxonomy
from consentry_events import (
    CONSENT_CHANGES,
    Choice,
    Scope,
    decode,
    encode,
    partition_key,
)
from consentry_events.models import ConsentChanged, TrackChanged
from consentry_kafka import KafkaConnection, LogEnds
from consentry_sdk import ConsentChecker
from consentry_stack.signed import signed
from consentry_stack.stack import Stack
from consentry_state import StateReader
from tests.support.events import decision_event, track_event
from tests.support.ids import new_isrc, new_party, new_upc
from tests.support.log import Marks, dead_letters
from tests.support.state import wait_applied

TAXONOMY = load_taxonomy()
GARBAGE = [
    b"not json",
    b'{"type": "consent.changed"}',
    b"[]",
    b'{"type": "catalogue.track", "isrc": 1}',
]


async def test_stream_materialises_to_the_replayed_state_and_garbage_dead_letters(
    stack: Stack,
) -> None:
    label, artists = new_party("label"), [new_party() for _ in range(3)]
    upc = new_upc()
    isrcs = [new_isrc() for _ in range(6)]
    events: list[ConsentChanged | TrackChanged] = [
        track_event(isrc, upc, [artists[i % 3], label]) for i, isrc in enumerate(isrcs)
    ]
    events += [
        decision_event(label, "ai", Choice.DENY, Scope.PARTY),
        decision_event(artists[0], "ai.training", Choice.ALLOW, Scope.TRACK, isrc=isrcs[0]),
        decision_event(label, "ai.training", Choice.ALLOW, Scope.RELEASE, upc=upc),
        decision_event(artists[1], "ai.generation", Choice.DENY, Scope.PARTY),
        decision_event(artists[2], "ai.dj", Choice.DENY, Scope.PARTY),
        decision_event(artists[2], "ai.dj", Choice.WITHDRAWN, Scope.PARTY),
    ]
    replay = ConsentState()
    marks: Marks = {}
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka.bootstrap, acks="all")
    await producer.start()
    signer = stack.event_signer()
    try:
        garbage_sources = set()
        for raw in GARBAGE:
            [headers] = signer.sign(CONSENT_CHANGES.name, [(label.encode(), raw)])
            meta = await producer.send_and_wait(
                CONSENT_CHANGES.name, raw, key=label.encode(), headers=headers
            )
            garbage_sources.add(f"{meta.topic}:{meta.partition}:{meta.offset}")
        for topic, key, value, headers in signed(signer, events):
            meta = await producer.send_and_wait(topic, value, key=key, headers=headers)
            event = decode(value)
            replay.apply(event, meta.offset)
            marks[(meta.topic, meta.partition)] = meta.offset
    finally:
        await producer.stop()

    redis = Redis.from_url(stack.redis.url)
    try:
        await wait_applied(redis, marks, timeout_s=20)
        checker = ConsentChecker(StateReader(redis), TAXONOMY)
        for purpose in sorted(TAXONOMY.defaults):
            answers = await checker.check_many(isrcs, purpose)
            now = time.time_ns() // 1_000_000
            for isrc in isrcs:
                assert answers[isrc] == replay.check(isrc, purpose, TAXONOMY, now), (isrc, purpose)
        training = await checker.check_many(isrcs, "ai.training")
        assert [training[i].allowed for i in isrcs] == [True] * 6, "release allow beats party deny"
        dj = await checker.check_many(isrcs, "ai.dj")
        assert [dj[i].allowed for i in isrcs] == [False] * 6, "the label's ai deny covers ai.dj"
    finally:
        await redis.aclose()

    reasons = await dead_letters(stack.kafka.bootstrap, garbage_sources)
    assert set(reasons) == garbage_sources
    assert all(reason for reason in reasons.values())


async def test_log_ends_are_the_brokers_high_watermarks_and_a_silent_broker_times_out(
    stack: Stack,
) -> None:
    party = new_party()
    event = decision_event(party, "ai", Choice.DENY, Scope.PARTY)
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka.bootstrap, acks="all")
    await producer.start()
    try:
        sent = [
            await producer.send_and_wait(
                CONSENT_CHANGES.name, encode(event), key=partition_key(event)
            )
            for _ in range(3)
        ]
    finally:
        await producer.stop()
    tp = TopicPartition(CONSENT_CHANGES.name, sent[0].partition)

    ends = LogEnds(KafkaConnection(stack.kafka.bootstrap), timeout_s=5)
    try:
        got = (await ends([tp]))[tp]
    finally:
        await ends.close()
    reference = AIOKafkaConsumer(bootstrap_servers=stack.kafka.bootstrap)
    await reference.start()
    try:
        later = (await reference.end_offsets([tp]))[tp]
    finally:
        await reference.stop()
    assert sent[-1].offset + 1 <= got <= later

    # A broker that accepts connections and never answers: no end, within the timeout.
    held: list[asyncio.StreamWriter] = []
    silent = await asyncio.start_server(lambda _, w: held.append(w), "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    mute = LogEnds(KafkaConnection(f"127.0.0.1:{port}"), timeout_s=1)
    started = time.monotonic()
    try:
        with pytest.raises((TimeoutError, KafkaError)):
            await mute([tp])
    finally:
        await mute.close()
        for writer in held:
            writer.close()
        silent.close()
        await silent.wait_closed()
    assert time.monotonic() - started < 3

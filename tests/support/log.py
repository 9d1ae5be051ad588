"""The log in tests: producing events straight to the topics, reading one record back,
and an independent replay of everything into the reference model."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from consentry_domain import ConsentState
from consentry_events import (
    CATALOGUE,
    CONSENT_CHANGES,
    DEAD_LETTER,
    ENFORCEMENT,
    AnyEvent,
    ConsentChanged,
    DecodeError,
    EnforcementChanged,
    decode,
)
from consentry_events.logged import LoggedEvent
from consentry_kafka import KafkaConnection, all_partitions, read_to_end
from consentry_stack.signed import signed
from consentry_stack.stack import Stack
from tests.support.events import record_at
from tests.support.eventually import eventually_async

Marks = dict[tuple[str, int], int]
"""(topic, partition) -> the highest offset written there."""


async def produce(
    stack: Stack, events: Sequence[AnyEvent], replay: ConsentState | None = None
) -> Marks:
    """Write ``events`` in order (acks=all), signed with the stack's event key as the
    write API signs them; apply each to ``replay`` at its offset. Returns the highest
    offset written per partition."""
    producer = AIOKafkaProducer(
        bootstrap_servers=stack.kafka.bootstrap, acks="all", linger_ms=5, enable_idempotence=True
    )
    await producer.start()
    marks: Marks = {}
    try:
        pending = [
            await producer.send(topic, value, key=key, headers=headers)
            for topic, key, value, headers in signed(stack.event_signer(), events)
        ]
        for event, meta in zip(events, await asyncio.gather(*pending), strict=True):
            if replay is not None:
                replay.apply(event, meta.offset)
            tp = (meta.topic, meta.partition)
            marks[tp] = max(marks.get(tp, -1), meta.offset)
    finally:
        await producer.stop()
    return marks


async def in_log(bootstrap: str, partition: int, offset: int) -> ConsentChanged:
    """The decision at ``offset`` of the consent topic's ``partition``."""
    record = await record_at(bootstrap, CONSENT_CHANGES.name, partition, offset)
    event = decode(record.value)
    assert isinstance(event, ConsentChanged)
    return event


async def replay_log(stack: Stack, seen: list[LoggedEvent[AnyEvent]] | None = None) -> ConsentState:
    """An independent replay: every record of both logs, from the start, into the
    reference model (each partition in its order; the merge does not depend on the
    order across partitions), of the records the stack's event keys admit (as the
    materialiser does). ``seen`` collects the decoded records."""
    replay = ConsentState()
    kafka = KafkaConnection(stack.kafka.bootstrap)
    trust = stack.event_verifier()
    partitions = await all_partitions(kafka, [CONSENT_CHANGES.name, CATALOGUE.name])
    async for records in read_to_end(kafka, partitions, max_records=5000):
        for record in records:
            try:
                logged = record.decoded(trust)
            except DecodeError:
                continue
            replay.apply(logged.event, logged.offset)
            if seen is not None:
                seen.append(logged)
    return replay


async def dead_letters(
    bootstrap: str, sources: set[str], timeout_s: float = 20.0
) -> dict[str, str]:
    """The dead-letter topic's reasons for records from ``sources`` (``topic:partition:offset``),
    read until all are found or ``timeout_s`` passed."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found: dict[str, str] = {}
    try:
        tp = TopicPartition(DEAD_LETTER.name, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        deadline = time.monotonic() + timeout_s
        while set(found) != sources and time.monotonic() < deadline:
            batch = await consumer.getmany(tp, timeout_ms=500)
            for record in batch.get(tp, []):
                headers = dict(record.headers)
                source = headers["consentry-source"].decode()
                if source in sources:
                    found[source] = headers["consentry-reason"].decode()
    finally:
        await consumer.stop()
    return found


async def enforcement_for(
    bootstrap: str, isrcs: set[str], keep: Any, count: int, timeout_s: float = 10.0
) -> list[EnforcementChanged]:
    """Enforcement events for ``isrcs`` that ``keep`` accepts, in log order per pair.

    Reads until ``count`` are found, then on to the end of the log, so extra events fail.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found: list[EnforcementChanged] = []
    try:
        parts = [TopicPartition(ENFORCEMENT.name, p) for p in range(ENFORCEMENT.partitions)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        deadline = time.monotonic() + timeout_s
        end: dict[TopicPartition, int] | None = None
        while time.monotonic() < deadline:
            if len(found) >= count and end is None:
                end = await consumer.end_offsets(parts)
            if end is not None and all([await consumer.position(p) >= end[p] for p in parts]):
                break
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    event = EnforcementChanged.model_validate_json(record.value)
                    if event.isrc in isrcs and keep(event):
                        found.append(event)
    finally:
        await consumer.stop()
    assert len(found) == count, found
    return found


async def wait_consumed(bootstrap: str, group: str, marks: Marks, timeout_s: float = 30.0) -> None:
    """Until consumer ``group`` has committed past every offset in ``marks`` (a faust
    worker commits what it has handled about once a second)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:

        async def past() -> bool:
            committed = await admin.list_consumer_group_offsets(group)
            return all(
                (meta := committed.get(TopicPartition(*tp))) is not None and meta.offset > offset
                for tp, offset in marks.items()
            )

        await eventually_async(past, timeout_s, f"group {group} past {marks}", poll_s=0.1)
    finally:
        await admin.close()


def accepted_at(body: dict[str, Any]) -> Marks:
    """Where a write API answer says its event is."""
    return {(str(body["topic"]), int(body["partition"])): int(body["offset"])}

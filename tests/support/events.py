"""Builders of valid events for tests, and reading one record back from the log."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from consentry_events import Choice, ConsentChanged, Scope, TrackChanged


def _moment(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


def decision_event(
    party: str,
    purpose: str,
    choice: Choice,
    scope: Scope,
    *,
    upc: str | None = None,
    isrc: str | None = None,
    start: int | None = None,
    end: int | None = None,
    decision_id_seed: int | None = None,
) -> ConsentChanged:
    decision_id = uuid.uuid4() if decision_id_seed is None else uuid.UUID(int=decision_id_seed)
    if choice is Choice.WITHDRAWN:
        start = end = None
    return ConsentChanged(
        decision_id=decision_id,
        party=party,
        purpose=purpose,
        choice=choice,
        scope=scope,
        upc=upc if scope is Scope.RELEASE else None,
        isrc=isrc if scope is Scope.TRACK else None,
        effective_from=_moment(start),
        expires_at=_moment(end),
        recorded_at=datetime.now(UTC),
    )


def track_event(isrc: str, upc: str, parties: list[str]) -> TrackChanged:
    return TrackChanged(isrc=isrc, upc=upc, parties=tuple(parties), recorded_at=datetime.now(UTC))


async def record_at(bootstrap: str, topic: str, partition: int, offset: int) -> ConsumerRecord:
    """The record at ``offset`` of ``topic``/``partition``, read straight from Kafka."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, offset)
        record: ConsumerRecord = await asyncio.wait_for(consumer.getone(tp), timeout=10)
        assert record.offset == offset
        return record
    finally:
        await consumer.stop()

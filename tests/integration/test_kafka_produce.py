"""``consentry_kafka.produce.send_keyed`` on the real broker: every record lands once, on
the partition ``AIOKafkaProducer.send`` picks for its key, in the order given per key."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from consentry_kafka.produce import send_keyed, start_producer
from consentry_stack.stack import Stack

PARTITIONS = 6


async def _read_all(bootstrap: str, topic: str) -> dict[int, list[tuple[bytes, bytes]]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        found: dict[int, list[tuple[bytes, bytes]]] = {p: [] for p in range(PARTITIONS)}
        while sum(len(v) for v in found.values()) < sum(ends.values()):
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                found[tp.partition] += [(r.key or b"", r.value or b"") for r in records]
        return found
    finally:
        await consumer.stop()


async def test_records_land_where_send_would_put_them_in_order_per_key(stack: Stack) -> None:
    bootstrap = stack.kafka.bootstrap
    batched, single = f"test-keyed-{uuid.uuid4().hex[:8]}", f"test-single-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(t, PARTITIONS, replication_factor=1) for t in (batched, single)]
        )
    finally:
        await admin.close()
    records = [(f"key-{i % 97}".encode(), f"value-{i}".encode() * 20) for i in range(3000)]
    # A small batch size, so one partition's records fill several batches.
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_batch_size=4096)
    await producer.start()
    try:
        await send_keyed(producer, batched, records)
        for key, value in records:
            await producer.send(single, value, key=key)
        await producer.flush()
    finally:
        await producer.stop()
    got, expected = await _read_all(bootstrap, batched), await _read_all(bootstrap, single)
    assert sum(len(v) for v in got.values()) == len(records)
    for partition in range(PARTITIONS):
        assert sorted(got[partition]) == sorted(expected[partition])
        per_key: dict[bytes, list[bytes]] = {}
        for key, value in got[partition]:
            per_key.setdefault(key, []).append(value)
        for key, values in per_key.items():
            assert values == [v for k, v in records if k == key]


async def test_a_producer_cancelled_while_it_connects_is_stopped() -> None:
    """A service shut down while its producer connects (the check service's usage log
    connects in the background) leaves no half-started producer behind: aiokafka warns
    of one when it is collected, and it held its connections until then."""
    connected = asyncio.Event()
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # a "broker" that accepts and never answers
        connected.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    producer = AIOKafkaProducer(bootstrap_servers=f"127.0.0.1:{port}", request_timeout_ms=30_000)
    starting = asyncio.create_task(start_producer(producer))
    try:
        await asyncio.wait_for(connected.wait(), 10)
        starting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await starting
        assert producer._closed, "stopped, not left to the garbage collector"
    finally:
        for writer in accepted:
            writer.close()
            await writer.wait_closed()
        server.close()
        await server.wait_closed()

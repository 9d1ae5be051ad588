"""Reading partitions from a start up to where they end now: one scan for every reader.

The rebuild replays whole partitions into Redis, the write API reads a party's history,
audits verify chains and tests replay the log into the reference model: each reads
some partitions from a given offset up to their end *as of the start of the read*, and
stops there even while writers go on. A consumer of its own (no group, no commits)
does it, so it never disturbs a consumer group.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner

from consentry_kafka.connection import KafkaConnection
from consentry_kafka.records import LogRecord


async def read_to_end(
    kafka: KafkaConnection,
    partitions: Sequence[TopicPartition],
    *,
    start: Mapping[TopicPartition, int] | None = None,
    max_records: int = 2000,
    client_id: str = "consentry-scan",
) -> AsyncIterator[list[LogRecord]]:
    """Batches of records from ``start`` (default: the log start; an offset below the log
    start begins there) up to each partition's end as of the call, in partition order."""
    consumer = AIOKafkaConsumer(
        **kafka.client_args(),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id=client_id,
    )
    await consumer.start()
    try:
        wanted = list(partitions)
        consumer.assign(wanted)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(wanted)
        begins: dict[TopicPartition, int] = await consumer.beginning_offsets(wanted)
        for tp in wanted:
            consumer.seek(tp, max(begins[tp], (start or {}).get(tp, 0)))
        remaining = {tp for tp in wanted if await consumer.position(tp) < ends[tp]}
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=max_records)
            batch = [
                LogRecord(
                    tp.topic, tp.partition, m.offset, m.key, m.value, m.timestamp, tuple(m.headers)
                )
                for tp, messages in fetched.items()
                for m in messages
                if m.offset < ends[tp]
            ]
            if batch:
                yield batch
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()


async def partition_counts(kafka: KafkaConnection, topics: Sequence[str]) -> dict[str, int]:
    """How many partitions each topic has, asked of the broker (any client can; faust's
    own view of topic metadata is kept by the group leader only)."""
    admin = AIOKafkaAdminClient(**kafka.client_args(), client_id="consentry-scan")
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
        return {topic["topic"]: len(topic["partitions"]) for topic in described}
    finally:
        await admin.close()


async def all_partitions(kafka: KafkaConnection, topics: Sequence[str]) -> list[TopicPartition]:
    counts = await partition_counts(kafka, topics)
    return [TopicPartition(topic, p) for topic in topics for p in range(counts[topic])]


def partition_of(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2) gives ``key``: where a party's
    events are."""
    every = list(range(partitions))
    partition: int = DefaultPartitioner()(key, every, every)
    return partition

"""A party's decision history, read from the consent topic (the system of record).

The party's key fixes its partition (Kafka's murmur2 partitioner), so only that
partition is scanned, up to its end offset at the time of the request. The cost grows
with the partition: fine for an audit endpoint; index it elsewhere at larger scale.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner

from consentry_events import CONSENT_CHANGES, ConsentChanged, DecodeError, decode


@dataclass(frozen=True, slots=True)
class Recorded:
    partition: int
    offset: int
    event: ConsentChanged


async def _partitions(bootstrap: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="consentry-writeapi-history")
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        return sorted(int(p["partition"]) for p in described["partitions"])
    finally:
        await admin.close()


async def party_history(bootstrap: str, party: str) -> list[Recorded]:
    partitions = await _partitions(bootstrap, CONSENT_CHANGES.name)
    if not partitions:
        return []
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
        client_id="consentry-writeapi-history",
    )
    await consumer.start()
    try:
        key = party.encode()
        tp = TopicPartition(CONSENT_CHANGES.name, DefaultPartitioner()(key, partitions, partitions))
        consumer.assign([tp])
        end: int = (await consumer.end_offsets([tp]))[tp]
        begin: int = (await consumer.beginning_offsets([tp]))[tp]
        consumer.seek(tp, begin)
        found: list[Recorded] = []
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=1000, max_records=5000)
            for record in batch.get(tp, []):
                if record.offset >= end or record.key != key:
                    continue
                try:
                    event = decode(record.value)
                except DecodeError:
                    continue  # dead-lettered by the materialiser; not a decision
                if isinstance(event, ConsentChanged) and event.party == party:
                    found.append(Recorded(tp.partition, record.offset, event))
        return found
    finally:
        await consumer.stop()

"""A party's history, read from the consent topic (the system of record), and its chain.

The party's key fixes its partition (Kafka's murmur2 partitioner), so only that
partition is scanned, up to its end offset at the time of the request. The cost grows
with the partition: fine for audits and for settling an unknown write; index it
elsewhere at larger scale.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner

from consentry_auth.kafka import KafkaConnection
from consentry_events import (
    CONSENT_CHANGES,
    ConsentChanged,
    DecodeError,
    DelegationChanged,
    PartyEvent,
    decode,
    record_hash,
)


@dataclass(frozen=True, slots=True)
class Recorded:
    partition: int
    offset: int
    event: PartyEvent
    digest: str
    """SHA-256 of the record's value: the next event's ``prev_hash``."""

    @property
    def event_id(self) -> str:
        event = self.event
        return str(event.decision_id if isinstance(event, ConsentChanged) else event.delegation_id)


@dataclass(frozen=True, slots=True)
class BrokenLink:
    partition: int
    offset: int
    event_id: str
    expected_prev_hash: str | None
    found_prev_hash: str | None


@dataclass(frozen=True, slots=True)
class ChainReport:
    party: str
    events: int
    head: str | None
    """Hash of the party's last event: what its next event must carry."""
    first_broken: BrokenLink | None


async def _partitions(kafka: KafkaConnection, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(**kafka.client_args(), client_id="consentry-writeapi-history")
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        return sorted(int(p["partition"]) for p in described["partitions"])
    finally:
        await admin.close()


async def party_records(kafka: KafkaConnection, party: str, after: int = -1) -> list[Recorded]:
    """The party's events (decisions and delegations) past offset ``after``, oldest first.

    Records under the party's key that are not valid events were dead-lettered by the
    materialiser and are not part of its history.
    """
    partitions = await _partitions(kafka, CONSENT_CHANGES.name)
    if not partitions:
        return []
    consumer = AIOKafkaConsumer(
        **kafka.client_args(),
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
        consumer.seek(tp, max(begin, after + 1))
        found: list[Recorded] = []
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=1000, max_records=5000)
            for record in batch.get(tp, []):
                if record.offset >= end or record.key != key or record.value is None:
                    continue
                try:
                    event = decode(record.value)
                except DecodeError:
                    continue
                if isinstance(event, ConsentChanged | DelegationChanged) and event.party == party:
                    found.append(
                        Recorded(tp.partition, record.offset, event, record_hash(record.value))
                    )
        return found
    finally:
        await consumer.stop()


def verify_chain(party: str, records: list[Recorded]) -> ChainReport:
    """Walk the party's events in log order: each must carry the hash of the one before."""
    expected: str | None = None
    for record in records:
        if record.event.prev_hash != expected:
            broken = BrokenLink(
                record.partition, record.offset, record.event_id, expected, record.event.prev_hash
            )
            return ChainReport(party, len(records), records[-1].digest, broken)
        expected = record.digest
    return ChainReport(party, len(records), expected, None)

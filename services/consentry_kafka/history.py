"""A party's history, read from the consent topic (the system of record).

The party's key fixes its partition (Kafka's murmur2 partitioner), so only that
partition is scanned, up to its end offset at the time of the request. The cost grows
with the partition: fine for audits and for settling an unknown write; index it
elsewhere at larger scale.
"""

from __future__ import annotations

from collections.abc import Collection

from aiokafka import TopicPartition

from consentry_events import (
    CONSENT_CHANGES,
    DecodeError,
    PartyEvent,
    TrackChanged,
)
from consentry_events.logged import LoggedEvent
from consentry_events.signing import Verdict
from consentry_kafka.connection import KafkaConnection
from consentry_kafka.scan import partition_counts, partition_of, read_to_end

Signed = tuple[LoggedEvent[PartyEvent], Verdict]
"""A party's event and what its signature says (``signatures.Verdict``)."""


async def party_history(
    kafka: KafkaConnection, party: str, after: int = -1
) -> list[LoggedEvent[PartyEvent]]:
    """The party's events (decisions and delegations) past offset ``after``, oldest first.

    Records under the party's key that are not valid events, or not validly signed
    (``kafka.trust``), were dead-lettered by the materialiser and are not part of its
    history.
    """
    return (await parties_history(kafka, [party], after)).get(party, [])


async def parties_history(
    kafka: KafkaConnection, parties: Collection[str], after: int = -1
) -> dict[str, list[LoggedEvent[PartyEvent]]]:
    """``party_history`` of several parties, each partition read once for all of its
    parties (a label's many artists share the consent topic's few partitions)."""
    found = await _signed_histories(kafka, parties, after)
    return {
        party: [event for event, verdict in events if verdict.admitted]
        for party, events in found.items()
    }


async def party_records(kafka: KafkaConnection, party: str) -> list[Signed]:
    """Every well-formed event under the party's key, admitted or not, with its verdict:
    what the chain verifier reads (it names the first one that is not validly signed)."""
    return (await _signed_histories(kafka, [party], -1)).get(party, [])


async def _signed_histories(
    kafka: KafkaConnection, parties: Collection[str], after: int
) -> dict[str, list[Signed]]:
    counts = (await partition_counts(kafka, [CONSENT_CHANGES.name]))[CONSENT_CHANGES.name]
    if not counts or not parties:
        return {}
    keys = {party.encode(): party for party in parties}
    tps = {TopicPartition(CONSENT_CHANGES.name, partition_of(key, counts)) for key in keys}
    found: dict[str, list[Signed]] = {}
    async for records in read_to_end(
        kafka,
        sorted(tps),
        start={tp: after + 1 for tp in tps},
        max_records=5000,
        client_id="consentry-history",
    ):
        for record in records:
            party = keys.get(record.key or b"")
            if party is None:
                continue
            try:
                logged = record.decoded(None)
            except DecodeError:
                continue
            event = logged.event
            if not isinstance(event, TrackChanged) and event.party == party:
                verdict = (
                    Verdict.NOT_JUDGED
                    if kafka.trust is None
                    else kafka.trust.verdict(
                        record.topic,
                        record.partition,
                        record.offset,
                        record.key,
                        record.value,
                        record.headers,
                    )
                )
                party_event = LoggedEvent(
                    logged.topic,
                    logged.partition,
                    logged.offset,
                    event,
                    logged.digest,
                    logged.timestamp_ms,
                )
                found.setdefault(party, []).append((party_event, verdict))
    return found

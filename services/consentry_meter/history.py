"""The consent and catalogue logs as the meter judges uses by: every record with the
moment Kafka accepted it, indexed by track and by party.

A use is judged only once the index holds every record accepted up to the use's moment:
``catch_up`` reads both topics to their ends *as of the call*, and the call comes after
the report was read, so every record accepted before the use happened (and so before
its report) is in. A consumer of its own (no group, no commits) reads them from the
start at the meter's first report and keeps reading from there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

from consentry_domain.audit import Accepted
from consentry_events import CATALOGUE, CONSENT_CHANGES, DecodeError, TrackChanged
from consentry_kafka import KafkaConnection, LogRecord
from consentry_kafka.scan import all_partitions


class History:
    def __init__(self, kafka: KafkaConnection) -> None:
        self._kafka = kafka
        self._consumer: AIOKafkaConsumer | None = None
        self._partitions: list[TopicPartition] = []
        self._tracks: dict[str, list[Accepted]] = defaultdict(list)
        self._parties: dict[str, list[Accepted]] = defaultdict(list)
        self._holders: dict[str, set[str]] = defaultdict(set)
        """Every party ever listed on a track: their decisions may bind it."""
        self._works: dict[str, set[str]] = defaultdict(set)
        """Every track a party was ever listed on."""
        self._touched: set[str] = set()
        self.records = 0

    async def start(self) -> None:
        if self._consumer is not None:
            return
        self._partitions = await all_partitions(self._kafka, [CONSENT_CHANGES.name, CATALOGUE.name])
        consumer = AIOKafkaConsumer(
            **self._kafka.client_args(),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id="consentry-meter-history",
        )
        await consumer.start()
        consumer.assign(self._partitions)
        await consumer.seek_to_beginning(*self._partitions)
        self._consumer = consumer

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def catch_up(self) -> None:
        """Read both logs up to their ends as of now."""
        consumer = self._consumer
        if consumer is None:
            await self.start()
            consumer = self._consumer
        if consumer is None:
            raise RuntimeError("the history's consumer did not start")
        ends: dict[TopicPartition, int] = await consumer.end_offsets(self._partitions)
        behind = {tp for tp in self._partitions if await consumer.position(tp) < ends[tp]}
        while behind:
            fetched = await consumer.getmany(*behind, timeout_ms=1000, max_records=5000)
            for tp, messages in fetched.items():
                for m in messages:
                    at = m.timestamp
                    record = LogRecord(
                        tp.topic, tp.partition, m.offset, m.key, m.value, at, tuple(m.headers)
                    )
                    self._index(record)
            for tp in list(behind):
                if await consumer.position(tp) >= ends[tp]:
                    behind.discard(tp)

    def _index(self, record: LogRecord) -> None:
        if record.value is None:
            return
        try:
            event = record.decoded(self._kafka.trust).event
        except DecodeError:
            return  # dead-lettered by the materialiser: not part of the history
        accepted = Accepted(event, record.offset, record.timestamp_ms)
        self.records += 1
        if isinstance(event, TrackChanged):
            self._tracks[event.isrc].append(accepted)
            self._holders[event.isrc].update(event.parties)
            for party in event.parties:
                self._works[party].add(event.isrc)
            self._touched.add(event.isrc)
        else:
            self._parties[event.party].append(accepted)
            self._touched.update(self._works.get(event.party, ()))

    def touched(self) -> set[str]:
        """The tracks whose records changed since the last call: answers worked out
        for them before may be out of date."""
        touched, self._touched = self._touched, set()
        return touched

    def relevant(self, isrcs: Iterable[str]) -> list[Accepted]:
        """Every record that can bear on these tracks' answers: their catalogue records
        and the records of every party ever listed on them."""
        wanted = set(isrcs)
        parties = set().union(*(self._holders.get(isrc, set()) for isrc in wanted))
        found: list[Accepted] = []
        for isrc in sorted(wanted):
            found += self._tracks.get(isrc, [])
        for party in sorted(parties):
            found += self._parties.get(party, [])
        return found

"""faust tables written from a batch handler (``BatchApp.deliver_batches``).

faust's own ``table[key] = value`` takes the changelog partition from the stream's
current event (a whole fetch handed to a handler has none) and sends each change through
faust's producer, serialising it on the way: a third of a busy worker's time. Here a
change goes into the table's store (``data``, which faust's recovery rebuilds from the
changelog) and is staged with the partition of the record that made it; ``flush`` sends
the staged changes (as JSON, which faust's recovery reads) straight to the changelog
topic, a record batch per partition, and returns once the broker has them all -- the
caller acknowledges its records only after that, so their offsets are committed only
once their changes are durable, and a worker that takes a partition over recovers every
key of it from there.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from consentry_kafka.produce import send_to_partitions


class PartitionTable:
    def __init__(self, table: Any, changelog: str) -> None:
        self._table = table
        self._changelog = changelog
        self._staged: list[tuple[int, bytes, bytes | None]] = []

    def get(self, key: str) -> str | None:
        value: str | None = self._table.data.get(key)
        return value

    def set(self, partition: int, key: str, value: str) -> None:
        self._table.data[key] = value
        self._staged.append((partition, orjson.dumps(key), orjson.dumps(value)))

    def items(self) -> list[tuple[str, str]]:
        """Every key and value of the table (of the partitions this worker holds)."""
        return list(self._table.data.items())

    def delete(self, partition: int, key: str) -> None:
        """Drop ``key``: gone from the store, and a tombstone for its changelog."""
        self._table.data.pop(key, None)
        self._staged.append((partition, orjson.dumps(key), None))

    async def flush(self, producer: AIOKafkaProducer) -> None:
        """Send the staged changes; on an error they stay staged (send them again)."""
        await send_to_partitions(producer, self._changelog, self._staged)
        self._staged = []

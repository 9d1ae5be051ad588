"""faust tables written from a batch handler (``BatchApp.deliver_batches``).

faust's own ``table[key] = value`` takes the changelog partition from the stream's
current event, which a whole fetch handed to a handler does not have. ``PartitionTable``
names it instead: the partition of the record whose application wrote the key, so a
worker that takes that partition over recovers the key from there. Reads and writes go
to the table's store (``data``), which faust's recovery rebuilds from the changelog;
faust flushes the changelog's records before it commits the offsets acked after them.
"""

from __future__ import annotations

from typing import Any


class PartitionTable:
    def __init__(self, table: Any) -> None:
        self._table = table

    def get(self, key: str) -> str | None:
        value: str | None = self._table.data.get(key)
        return value

    def set(self, partition: int, key: str, value: str) -> None:
        self._table.data[key] = value
        self._table.send_changelog(partition, key, value)

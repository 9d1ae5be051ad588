"""What downstream AI systems are and say, recorded: their registrations (compacted by
name) and their receipts (keyed ``<system>|<change>``). Both are upserts of facts: the
same registration or receipt again changes nothing, so neither needs the chain or the
Idempotency-Key path a party's decision takes."""

from __future__ import annotations

from collections.abc import Sequence

from consentry_events import DownstreamSystem, ReceiptGiven
from consentry_writeapi.publisher import Receipt, TopicLog


class SystemRegistry:
    def __init__(self, systems: TopicLog) -> None:
        self._systems = systems

    async def register(self, system: DownstreamSystem) -> Receipt:
        return await self._systems.publish(system.name.encode(), system.model_dump_json().encode())


class ReceiptLog:
    def __init__(self, receipts: TopicLog) -> None:
        self._receipts = receipts

    async def record(self, receipts: Sequence[ReceiptGiven]) -> list[Receipt]:
        """Every receipt, sent together; ``PublishError`` unless the broker took them all
        (sending them again is safe)."""
        return await self._receipts.publish_many(
            [(f"{r.system}|{r.change}".encode(), r.model_dump_json().encode()) for r in receipts]
        )

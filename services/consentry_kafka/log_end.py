"""Where each partition's log ends now, asked of the broker -- the basis of freshness.

The group consumer's own high watermark is only as new as its last fetch for that
partition: old for a partition it has paused because its buffers are full, or in a
worker that was frozen. Trusting it would call a far-behind state fresh. So the end is
asked of the broker each time, on a client of its own: the group consumer's thread also
does the fetching, and a slow answer there would hold up consumption.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from aiokafka import AIOKafkaConsumer, TopicPartition

from consentry_kafka.connection import KafkaConnection


class LogEnds:
    def __init__(self, kafka: KafkaConnection, timeout_s: float) -> None:
        self._kafka = kafka
        self._timeout_s = timeout_s
        self._consumer: AIOKafkaConsumer | None = None

    async def __call__(self, partitions: Collection[TopicPartition]) -> dict[TopicPartition, int]:
        """The offset the next record of each partition will get (the high watermark:
        every acknowledged record is below it). Raises ``TimeoutError`` or a
        ``KafkaError`` when the broker does not say in time."""
        async with asyncio.timeout(self._timeout_s):
            consumer = await self._started()
            ends: dict[TopicPartition, int] = await consumer.end_offsets(list(partitions))
            return ends

    async def of_topic(self, topic: str) -> dict[TopicPartition, int]:
        """``__call__`` for every partition of ``topic``."""
        async with asyncio.timeout(self._timeout_s):
            consumer = await self._started()
            numbers = consumer.partitions_for_topic(topic)
            if numbers is None:
                await consumer.topics()  # fetches the cluster's metadata
                numbers = consumer.partitions_for_topic(topic) or set()
        return await self([TopicPartition(topic, n) for n in sorted(numbers)])

    async def _started(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            consumer = AIOKafkaConsumer(
                **self._kafka.client_args(),
                group_id=None,
                enable_auto_commit=False,
                request_timeout_ms=int(self._timeout_s * 1000),
                client_id="consentry-log-end",
            )
            try:
                await consumer.start()
            except BaseException:
                await consumer.stop()
                raise
            self._consumer = consumer
        return self._consumer

    async def close(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

"""Consentry's topics, created with the settings each needs (``consentry_events.TOPICS``)."""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from consentry_events import TOPICS


async def _create_topics(bootstrap: str, replication: int) -> None:
    min_isr = {"min.insync.replicas": str(min(2, replication))}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        for spec in TOPICS:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(
                            spec.name,
                            spec.partitions,
                            replication,
                            topic_configs={**spec.configs, **min_isr},
                        )
                    ]
                )
    finally:
        await admin.close()


def create_topics(bootstrap: str, replication: int = 1) -> None:
    """Create Consentry's topics with their settings; existing ones are left alone."""
    asyncio.run(_create_topics(bootstrap, replication))

"""faust-streaming apps that take records a fetch at a time, instead of one by one.

Measured (a bare faust app beside a plain aiokafka consumer on the same topic): faust's
own delivery tops out near 17,000 records/s per worker *with an agent that does
nothing*, against ~590,000/s for a plain aiokafka consumer. Per record its fetch loop
awaits ``Service.wait_first`` (two asyncio tasks created per message, a quarter of the
time in a profile), then the conductor decodes and queues it, then the stream takes it
out, runs its processors and acks it -- three or more event-loop turns per record. A
``take_events`` agent only sees what that pipeline delivered during its wait (30-50
records in 2 ms), and takes nothing in while it processes a batch.

Here faust keeps everything it is good at -- group membership and rebalancing, the
consumer thread, ``acks``-then-commit bookkeeping (a message's offset is committed only
once it is acked, and only contiguously), flow control while rebalancing -- and hands
each fetch (up to ``broker_max_poll_records``) for the topics registered with
``deliver_batches`` to one handler. The handler acks the messages once their batch is
written; faust commits acked offsets as before. Other topics go the usual way.

This reaches into faust's consumer (``_drain_messages`` is a copy of its loop; it uses
``_read_offset``, ``_add_gap``, ``_to_message``, ``_getmany``): ``pyproject.toml`` bounds
faust-streaming to the minor version it was written against, and
``tests/unit/test_faust_upstream.py`` fails when any of those change, with what to
re-check on an upgrade.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any, cast

import faust
from aiokafka.helpers import create_ssl_context
from faust.transport.drivers.aiokafka import Consumer, Transport

from consentry_kafka.connection import KafkaConnection
from consentry_kafka.records import LogRecord
from consentry_kafka.settings import WorkerSettings

BatchHandler = Callable[[Sequence[Any]], Awaitable[None]]
"""Takes faust ``Message`` objects, applies them, and acks each (``consumer.ack``)."""


class BatchConsumer(Consumer):
    """faust's aiokafka consumer, delivering a fetch at a time for batch topics."""

    async def _drain_messages(self, fetcher: Any) -> None:
        app = cast(BatchApp, self.app)
        getmany = self.getmany
        consumer_should_stop = self._stopped.is_set
        fetcher_should_stop = fetcher._stopped.is_set
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                batch: list[Any] = []
                others: list[Any] = []
                first = await self._first(app.first_topics)
                taken = [(tp, m) async for tp, m in getmany(timeout=0 if first else 1.0)]
                for tp, message in first + taken:
                    if await self._unread(tp, message):
                        (batch if tp.topic in app.batch_topics else others).append(message)
                if batch:
                    await app.deliver(batch)
                for message in others:
                    await self.callback(message)
                if self._commit_every is not None and self._n_acked >= self._commit_every:
                    self._n_acked = 0
                    await self.commit()
                await asyncio.sleep(0)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                return
            raise

    async def _unread(self, tp: Any, message: Any) -> bool:
        """Whether the message is new to this consumer (faust drops the others too); a
        jump in offsets (e.g. compacted away) is recorded as a gap, as faust does."""
        offset = message.offset
        read = self._read_offset[tp]
        if read is not None and offset < read:
            return False
        if read is not None and offset - read > 1 and self.app.topics.acks_enabled_for(tp.topic):
            await self._add_gap(tp, read + 1, offset)
        self._read_offset[tp] = offset
        return True

    async def _first(self, topics: frozenset[str]) -> list[tuple[Any, Any]]:
        """Records of ``topics`` that are already fetched, taken before the rest of the
        buffer: aiokafka hands out buffered records partition by partition, so without
        this a decision would wait behind every catalogue record fetched before it."""
        tps = {tp for tp in self._get_active_partitions() if tp.topic in topics}
        if not tps or not self.flow_active:
            return []
        records = await self._getmany(active_partitions=tps, timeout=0)
        return [(tp, self._to_message(tp, r)) for tp, rs in records.items() for r in rs]


class BatchTransport(Transport):
    Consumer = BatchConsumer


class BatchApp(faust.App):
    """A faust app whose consumer hands whole fetches of some topics to a handler."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch_topics: set[str] = set()
        self.first_topics: frozenset[str] = frozenset()
        self._batch_handler: BatchHandler | None = None

    def deliver_batches(
        self, channel: Any, handler: BatchHandler, *, first: Collection[str] = ()
    ) -> None:
        """Subscribe to ``channel``'s topics; each fetch of them goes to ``handler``,
        records of the ``first`` topics ahead of the others fetched with them."""
        self.topics.add(channel)
        self.batch_topics.update(channel.topics)
        self.first_topics = frozenset(first)
        self._batch_handler = handler

    async def deliver(self, messages: Sequence[Any]) -> None:
        if self._batch_handler is None:
            raise RuntimeError("deliver_batches was not called")
        await self._batch_handler(messages)

    def _new_transport(self) -> Any:
        return BatchTransport(self.conf.broker_consumer, self)


def worker_options(settings: WorkerSettings) -> dict[str, Any]:
    """A Consentry worker's faust settings: its own consumer group reading raw bytes from
    the earliest offset, no web server and no leader topic, topics declared by the
    operator (``consentry-stack topics``, or Strimzi), acked offsets committed every
    second, a heartbeat at a quarter of the session timeout, fetches of ``fetch_max``
    records; and it stops promptly even mid-retry (unacknowledged events are redelivered
    after a restart, and applying them again changes nothing)."""
    return {
        "broker": f"kafka://{settings.kafka_bootstrap}",
        "broker_credentials": faust_credentials(settings.kafka()),
        "datadir": str(settings.data_dir),
        "web_enabled": False,
        "consumer_auto_offset_reset": "earliest",
        "topic_disable_leader": True,
        "topic_allow_declare": False,
        "broker_commit_interval": 1.0,
        "broker_session_timeout": settings.session_timeout_s,
        "broker_heartbeat_interval": settings.session_timeout_s / 4,
        "stream_wait_empty": False,
        "key_serializer": "raw",
        "value_serializer": "raw",
        "broker_max_poll_records": settings.fetch_max,
    }


def worker_app(settings: WorkerSettings, **options: Any) -> BatchApp:
    """A Consentry worker's app (``worker_options``) that takes fetches of its batch
    topics at a time; ``options``: what the worker adds (its producer)."""
    return BatchApp(settings.group_id, **{**worker_options(settings), **options})


def log_records(messages: Sequence[Any]) -> list[LogRecord]:
    """faust messages -> the records our batch functions take (no faust types beyond here)."""
    return [
        LogRecord(
            m.topic,
            m.partition,
            m.offset,
            m.key,
            m.value,
            int(m.timestamp * 1000),
            tuple(m.headers or ()),
        )
        for m in messages
    ]


def faust_credentials(connection: KafkaConnection) -> Any:
    """``broker_credentials`` for a faust app (``None`` for PLAINTEXT)."""
    cafile = None if connection.ca_file is None else str(connection.ca_file)
    context = create_ssl_context(cafile=cafile) if connection.ssl else None
    if connection.sasl:
        return faust.SASLCredentials(
            username=connection.username,
            password=connection.password,
            ssl_context=context,
            mechanism=connection.sasl_mechanism,
        )
    return None if context is None else faust.SSLCredentials(context)

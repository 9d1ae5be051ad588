"""Publishing events: a small port, its aiokafka adapter, and ``TopicLog``, the one way
to each topic (its recorders in ``recorder`` and ``downstream_log`` build on it)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_exponential

from consentry_events.signing import SIGNED_TOPICS
from consentry_kafka import KafkaConnection
from consentry_kafka.produce import start_producer
from consentry_kafka.signatures import EventSigner, Headers
from consentry_tracing import record_headers
from consentry_writeapi import metrics
from consentry_writeapi.errors import PublishError, WriteOutcome
from consentry_writeapi.metrics import LogName

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Receipt:
    topic: str
    partition: int
    offset: int


class Publisher(Protocol):
    async def publish(self, topic: str, key: bytes, value: bytes, headers: Headers) -> Receipt:
        """Return only once the event is durably in the log (acks=all), else raise PublishError."""
        ...

    async def publish_many(
        self, topic: str, records: Sequence[tuple[bytes, bytes]], headers: Sequence[Headers]
    ) -> list[Receipt]:
        """(key, value) records with their headers, sent together (the producer batches
        them); returns once every one is durably in the log, else raises PublishError
        (some may be written)."""
        ...


class KafkaPublisher:
    """Publisher on an idempotent aiokafka producer with acks=all.

    The producer is created in ``start`` because aiokafka binds it to the running loop.
    """

    def __init__(self, kafka: KafkaConnection, timeout_s: float) -> None:
        self._kafka = kafka
        self._timeout_s = timeout_s
        self._producer: AIOKafkaProducer | None = None

    @retry(
        retry=retry_if_exception_type(KafkaError),
        stop=stop_after_delay(30),
        wait=wait_exponential(multiplier=0.2, max=2),
        reraise=True,
    )
    async def start(self) -> None:
        producer = AIOKafkaProducer(
            **self._kafka.client_args(),
            acks="all",
            enable_idempotence=True,
            linger_ms=0,
            request_timeout_ms=int(self._timeout_s * 1000),
            client_id="consentry-writeapi",
        )
        self._producer = await start_producer(producer)

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    @property
    def started(self) -> bool:
        return self._producer is not None

    async def publish(self, topic: str, key: bytes, value: bytes, headers: Headers) -> Receipt:
        producer = self._started()
        meta = await self._acknowledged(
            topic,
            "the change may or may not have been recorded",
            producer.send_and_wait(topic, value, key=key, headers=headers or None),
        )
        return Receipt(meta.topic, meta.partition, meta.offset)

    async def publish_many(
        self, topic: str, records: Sequence[tuple[bytes, bytes]], headers: Sequence[Headers]
    ) -> list[Receipt]:
        producer = self._started()

        async def every() -> list[Any]:
            sent = [
                await producer.send(topic, value, key=key, headers=extra or None)
                for (key, value), extra in zip(records, headers, strict=True)
            ]
            return list(await asyncio.gather(*sent))

        metas = await self._acknowledged(
            topic, "some of the records may have been written -- send them again", every()
        )
        return [Receipt(m.topic, m.partition, m.offset) for m in metas]

    def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise PublishError("not connected to Kafka yet", WriteOutcome.NOT_WRITTEN)
        return self._producer

    async def _acknowledged(self, topic: str, maybe: str, sending: Awaitable[T]) -> T:
        """``sending``'s result once the broker acknowledged it; else ``PublishError``
        with outcome unknown (``maybe`` says what may be in the log)."""
        try:
            async with asyncio.timeout(self._timeout_s):
                return await sending
        except TimeoutError:
            raise PublishError(
                f"the broker did not acknowledge within {self._timeout_s:g}s; {maybe}",
                WriteOutcome.UNKNOWN,
            ) from None
        except KafkaError as exc:
            log.warning("produce to %s failed: %r", topic, exc)
            raise PublishError(
                f"the broker refused or failed the write ({type(exc).__name__}); {maybe}",
                WriteOutcome.UNKNOWN,
            ) from exc


class TopicLog:
    """The one way to one topic: every produce timed under the topic's closed label
    (``metrics.LogName``), whatever records it carries, and signed when the topic is one
    of the signed ones (``consentry_kafka.signatures``: the consent and catalogue logs) --
    whichever route or fast path wrote it."""

    def __init__(self, publisher: Publisher, log: LogName, signer: EventSigner) -> None:
        self._publisher = publisher
        self._seconds = metrics.PRODUCE_SECONDS.labels(log=log)
        self.topic = metrics.LOG_TOPICS[log].name
        self._signer = signer if self.topic in SIGNED_TOPICS else None

    def _headers(self, records: Sequence[tuple[bytes, bytes]]) -> list[Headers]:
        traced = record_headers()  # the request's trace, when it is sampled
        if self._signer is None:
            return [list(traced) for _ in records]
        signed = self._signer.sign(self.topic, records)
        return [[*headers, *traced] for headers in signed] if traced else signed

    async def publish(self, key: bytes, value: bytes) -> Receipt:
        started = time.perf_counter()
        [headers] = self._headers([(key, value)])
        receipt = await self._publisher.publish(self.topic, key, value, headers)
        self._seconds.observe(time.perf_counter() - started)
        return receipt

    async def publish_many(self, records: Sequence[tuple[bytes, bytes]]) -> list[Receipt]:
        started = time.perf_counter()
        headers = self._headers(records)
        receipts = await self._publisher.publish_many(self.topic, records, headers)
        self._seconds.observe(time.perf_counter() - started)
        return receipts

"""One batch of log records -> Redis, with bad records sent to the dead-letter topic.

The batch is applied with one pipelined round trip; a Redis failure is retried until it
succeeds (the stream waits, nothing is skipped), because faust acknowledges -- and later
commits -- a batch only after this function returns.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from redis.exceptions import RedisError

from consentry_domain import Outcome
from consentry_events import CONSENT_CHANGES, ConsentChanged
from consentry_materialiser import metrics
from consentry_state import Applied, StateWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RawRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int = 0
    """The record's log time (Kafka timestamp)."""


DeadLetter = Callable[[RawRecord, str], Awaitable[None]]


async def apply_batch(
    records: Sequence[RawRecord],
    writer: StateWriter,
    dead_letter: DeadLetter,
    *,
    retry_delay_s: float = 0.1,
    max_retry_delay_s: float = 2.0,
) -> list[Outcome]:
    """Apply ``records`` in order; a dead-lettered record's outcome is ``SKIPPED``.

    Dead-lettered records still advance their partition's watermark, so the watermark
    means "handled up to here" and nothing waits on a record that will never apply.
    """
    batch: list[Applied] = []
    for record in records:
        applied, problem = Applied.decode(
            record.topic, record.partition, record.offset, record.value
        )
        if problem is not None:
            await dead_letter(record, problem)
        batch.append(applied)
    outcomes = await _apply_until_done(writer, batch, retry_delay_s, max_retry_delay_s)
    _observe(batch, outcomes)
    return outcomes


def _observe(batch: Sequence[Applied], outcomes: Sequence[Outcome]) -> None:
    now = time.time()
    for record, outcome in zip(batch, outcomes, strict=True):
        log = "consent" if record.topic == CONSENT_CHANGES.name else "catalogue"
        label = "dead_lettered" if outcome is Outcome.SKIPPED else outcome.value
        metrics.EVENTS.labels(log=log, outcome=label).inc()
        if outcome is Outcome.APPLIED and isinstance(record.event, ConsentChanged):
            lag = now - record.event.recorded_at.timestamp()
            metrics.PROPAGATION_SECONDS.observe(max(0.0, lag))
    metrics.LAST_APPLIED.set(now)


async def _apply_until_done(
    writer: StateWriter, batch: list[Applied], delay_s: float, max_delay_s: float
) -> list[Outcome]:
    while True:
        try:
            return await writer.apply(batch)
        except (RedisError, OSError) as exc:
            log.warning("Redis write failed, retrying in %.2fs: %s", delay_s, exc)
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, max_delay_s)

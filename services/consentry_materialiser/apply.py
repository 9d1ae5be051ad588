"""One batch of log records -> Redis, with bad records sent to the dead-letter topic.

The batch is applied in parts of at most ``chunk`` writes (a decision on many works
whole, however many), one atomic script call each (a part and its
watermarks together); a Redis failure is retried until it succeeds (the stream waits,
nothing is skipped), because the batch is acked -- and its offsets later committed --
only after this function returns. Chunks bound how long one script holds Redis, and so
how long a check can wait behind it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence

from redis.exceptions import RedisError

from consentry_domain import ApplyOutcome
from consentry_events import CONSENT_CHANGES, ConsentChanged, ConsentChangedMany, DecodeError
from consentry_events.logged import LoggedEvent, Position
from consentry_kafka import LogRecord
from consentry_kafka.signatures import EventVerifier, Refused
from consentry_materialiser import metrics
from consentry_state import StateWriter, ToApply, parts
from consentry_tracing import spans_of

log = logging.getLogger(__name__)

DeadLetter = Callable[[LogRecord, str], Awaitable[None]]


def to_apply(record: LogRecord, trust: EventVerifier) -> tuple[ToApply, str | None]:
    """The record as applied, and why it is dead-lettered (``None`` when it is not):
    not an event, or not validly signed (counted by reason)."""
    try:
        return record.decoded(trust), None
    except DecodeError as exc:
        if isinstance(exc, Refused):
            log = "consent" if record.topic == CONSENT_CHANGES.name else "catalogue"
            metrics.REFUSED.labels(log=log, reason=exc.verdict.value).inc()
        return Position(record.topic, record.partition, record.offset), str(exc)


async def apply_batch(
    records: Sequence[LogRecord],
    writer: StateWriter,
    dead_letter: DeadLetter,
    *,
    trust: EventVerifier,
    chunk: int = 500,
    retry_delay_s: float = 0.1,
    max_retry_delay_s: float = 2.0,
) -> list[ApplyOutcome]:
    """Apply ``records`` in order, each admitted by ``trust`` (signed, or legacy before
    the cut-over); a dead-lettered record's outcome is ``SKIPPED``.

    Dead-lettered records still advance their partition's watermark, so the watermark
    means "handled up to here" and nothing waits on a record that will never apply.
    """
    with spans_of("consentry.materialise", records) as spans:
        batch: list[ToApply] = []
        for record in records:
            applied, problem = to_apply(record, trust)
            if problem is not None:
                await dead_letter(record, problem)
            batch.append(applied)
        outcomes: list[ApplyOutcome] = []
        for part in parts(batch, chunk):
            outcomes += await _apply_until_done(writer, part, retry_delay_s, max_retry_delay_s)
        _observe(batch, outcomes)
        for span in spans.values():  # ends as Redis holds it: when the checks enforce it
            span.set_attribute("consentry.applied_records", len(batch))
    return outcomes


def _observe(batch: Sequence[ToApply], outcomes: Sequence[ApplyOutcome]) -> None:
    now = time.time()
    counts: Counter[tuple[str, str]] = Counter()
    for record, outcome in zip(batch, outcomes, strict=True):
        log = "consent" if record.topic == CONSENT_CHANGES.name else "catalogue"
        counts[log, "dead_lettered" if outcome is ApplyOutcome.SKIPPED else outcome.value] += 1
        if (
            outcome is ApplyOutcome.APPLIED
            and isinstance(record, LoggedEvent)
            and isinstance(record.event, ConsentChanged | ConsentChangedMany)
        ):
            lag = now - record.event.recorded_at.timestamp()
            metrics.PROPAGATION_SECONDS.observe(max(0.0, lag))
    for (log, label), n in counts.items():
        metrics.EVENTS.labels(log=log, outcome=label).inc(n)
    metrics.LAST_APPLIED.set(now)


async def _apply_until_done(
    writer: StateWriter, batch: list[ToApply], delay_s: float, max_delay_s: float
) -> list[ApplyOutcome]:
    while True:
        try:
            return await writer.apply(batch)
        except (RedisError, OSError) as exc:
            log.warning("Redis write failed, retrying in %.2fs: %s", delay_s, exc)
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, max_delay_s)

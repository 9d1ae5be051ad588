"""The receipts book on a real Redis: every operation idempotent (a redelivered fetch
changes nothing), a receipt that comes before its change waits for it, and a later
receipt for the same change replaces the earlier one in the counts."""

from __future__ import annotations

import asyncio
import uuid

from redis.asyncio import Redis

from consentry_events import ReceiptStatus
from consentry_stack.stack import Stack
from consentry_state import Propagation, ReceiptBook


def test_the_book_counts_each_change_and_receipt_once(stack: Stack) -> None:
    system = f"book-{uuid.uuid4().hex[:8]}"
    cause = f"consentry.consent-changes.v1:0:{uuid.uuid4().int % 10**9}"
    partition = 1000 + uuid.uuid4().int % 1000  # a feed partition of this test only

    async def scenario() -> tuple[list[int], list[int], list[int], int]:
        redis = Redis.from_url(stack.store.url)
        book = ReceiptBook(redis)
        try:
            fetch = [
                ReceiptBook.published(cause, partition, 1, 1_000),
                ReceiptBook.change(system, f"{partition}:1", cause, 61_000),
                ReceiptBook.published(cause, partition, 2, 1_001),
            ]
            early = ReceiptBook.receipt(
                system, f"{partition}:2", ReceiptStatus.NOT_HELD, 1_500, None
            )
            await book.note([early])  # the receipt first: the topics are read apart
            await book.note(fetch)
            await book.note(fetch)  # redelivered
            await book.note([ReceiptBook.change(system, f"{partition}:2", cause, 61_001)])
            after_changes = counts(await book.propagation(cause), system)
            done = ReceiptBook.receipt(system, f"{partition}:1", ReceiptStatus.DONE, 2_000, None)
            await book.note([done, done])
            after_done = counts(await book.propagation(cause), system)
            failed = ReceiptBook.receipt(
                system, f"{partition}:1", ReceiptStatus.FAILED, 3_000, "disk | full"
            )
            await book.note([failed])
            after_failed = counts(await book.propagation(cause), system)
            return after_changes, after_done, after_failed, (await book.propagation(cause)).changed
        finally:
            await redis.aclose()

    after_changes, after_done, after_failed, changed = asyncio.run(scenario())
    # [pending, done, not_held, failed]
    assert after_changes == [1, 0, 1, 0]
    assert after_done == [0, 1, 1, 0]
    assert after_failed == [0, 0, 1, 1]
    assert changed == 2


def counts(propagation: Propagation, system: str) -> list[int]:
    progress = propagation.systems[system]
    return [progress.pending, progress.done, progress.not_held, progress.failed]

"""A party's write, begun and finished in one Redis call each.

A write holds the party's lock (``keys.lock_key``, a random token, a TTL) from before it
reads the chain head until the head records its event. ``begin`` takes the lock, reads
the head and any intent left on it and -- when asked and none is pending -- records
this write's intent, in one script; ``finish`` advances the head, drops the intent and
releases the lock in another. Before, the same steps took six round trips.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from consentry_events import PartyEvent
from consentry_state import keys, layout
from consentry_state.heads import Head, delegation_args, head_args, read_head
from consentry_state.scripts import BEGIN_WRITE, FINISH_WRITE, UNLOCK, run
from consentry_state.text import text as _text


class StateNotWhole(Exception):
    """The state is being rebuilt: no head can be trusted, nothing may be written."""


@dataclass(frozen=True, slots=True)
class NewIntent:
    """The intent ``begin`` records, chained after whatever the head's offset is."""

    settle_at_ms: int
    event_id: str
    idempotency_key: str


class PartyWrites:
    def __init__(self, redis: Redis, *, lock_ttl_s: float, wait_s: float) -> None:
        self._redis = redis
        self._ttl_ms = int(lock_ttl_s * 1000)
        self._wait_s = wait_s

    async def begin(self, party: str, token: str, intent: NewIntent | None) -> Head | None:
        """Take the party's lock, waiting up to ``wait_s``; None if another write kept
        it. The head's ``intent`` is one left pending by an earlier write (then ``intent``
        was not recorded); with none pending, ``intent`` is on the head now. Raises
        ``StateNotWhole`` (the lock released) while the state is being rebuilt."""
        key, _ = layout.head_place(party)
        args: list[str | int] = [keys.lock_key(party), token, self._ttl_ms, key, party]
        args += (
            [""]
            if intent is None
            else [intent.settle_at_ms, f"{intent.event_id}|{intent.idempotency_key}"]
        )
        deadline = time.monotonic() + self._wait_s
        delay_s = 0.005
        while True:
            reply = await run(self._redis, BEGIN_WRITE, *args)
            if not isinstance(reply, list):
                raise TypeError(f"unexpected reply {reply!r}")
            status = _text(reply[0])
            if status == "not_ready":
                raise StateNotWhole("the state is being rebuilt from the log")
            if status != "locked":
                break
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, 0.1)
        return read_head(reply[1], _text(reply[2]))

    async def finish(
        self, party: str, token: str, offset: int, digest: str, event: PartyEvent
    ) -> bool:
        """The party's event is in the log at ``offset``: advance the head (never
        backwards), drop the intent, apply a delegation at once, release the lock. False
        (the lock still released) while the state is not whole."""
        lock = [keys.lock_key(party), token]
        args = [*head_args(party, offset, digest), *lock, *delegation_args(event)]
        return await run(self._redis, FINISH_WRITE, *args) == 1

    async def release(self, party: str, token: str) -> None:
        """Release the lock if still ours; a lock that expired or a Redis gone is left to
        its TTL."""
        with contextlib.suppress(RedisError):
            await run(self._redis, UNLOCK, keys.lock_key(party), token)

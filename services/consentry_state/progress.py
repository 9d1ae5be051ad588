"""Where the state stands against the log: watermarks, freshness, and whether it is whole.

* the **watermark** of a partition is the highest offset applied from it (written by the
  apply script in the same atomic step as the state it covers);
* its **freshness** is the time up to which its state is complete, written by the
  worker that owns it (``StateWriter.beat``), only while the state is whole;
* the state is **whole** while ``READY`` exists: a flush removes it, and a rebuild from
  the log (``RebuildMarks``) sets it again.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable, Mapping

from redis.asyncio import Redis

from consentry_state import keys, layout
from consentry_state.scripts import MARK_REBUILT, run
from consentry_state.text import text as _text

Partition = tuple[str, int]
"""(topic, partition)"""


class LogProgress:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def applied(self, partitions: Iterable[Partition]) -> dict[Partition, int]:
        """The offset applied on each partition; -1 where nothing is."""
        wanted = list(dict.fromkeys(partitions))
        if not wanted:
            return {}
        fields = [keys.watermark_field(topic, p) for topic, p in wanted]
        marks = await self._redis.hmget(keys.WATERMARKS, fields)
        return {tp: -1 if m is None else int(m) for tp, m in zip(wanted, marks, strict=True)}

    async def wait_applied(
        self, wanted: Mapping[Partition, int], timeout_s: float, poll_s: float = 0.002
    ) -> bool:
        """Until every partition has applied its offset in ``wanted``: True; False past
        the timeout."""
        deadline = time.monotonic() + timeout_s
        while True:
            applied = await self.applied(wanted)
            if all(applied[tp] >= offset for tp, offset in wanted.items()):
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(poll_s)

    async def freshness(self) -> list[int]:
        """Each partition's "complete up to" time (epoch ms); empty while not whole."""
        return [int(v) for v in await self._redis.hvals(keys.FRESHNESS)]

    async def is_whole(self) -> bool:
        """Whole, and in this code's layout."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.exists(keys.READY)
            pipe.get(keys.LAYOUT)
            ready, version = await pipe.execute()
        return bool(ready) and version is not None and _text(version) == layout.VERSION

    async def layout_outdated(self) -> bool:
        """The state is marked whole, but written in another layout than this code's."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.exists(keys.READY)
            pipe.get(keys.LAYOUT)
            ready, version = await pipe.execute()
        return bool(ready) and (version is None or _text(version) != layout.VERSION)


class RebuildMarks:
    """The rebuild's shared markers: its epoch, and which partitions it has replayed."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def epoch(self) -> str | None:
        """The rebuild under way, started now if none is; None if Redis lost it meanwhile."""
        await self._redis.set(keys.EPOCH, uuid.uuid4().hex, nx=True)
        raw = await self._redis.get(keys.EPOCH)
        if raw is None:
            return None
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    async def replayed(self, epoch: str, topic: str, partition: int) -> bool:
        field = keys.watermark_field(topic, partition)
        return bool(await self._redis.hexists(keys.rebuilt_key(epoch), field))

    async def mark_replayed(self, epoch: str, total: int, partitions: Iterable[Partition]) -> bool:
        """These partitions hold the whole log again; True once all ``total`` do -- then
        the state is declared whole, atomically, and only if the epoch is still current."""
        fields = [keys.watermark_field(topic, p) for topic, p in partitions]
        return await run(self._redis, MARK_REBUILT, epoch, total, layout.VERSION, *fields) == 1


class OldLayout:
    """A state written by older code: retired, so the workers rebuild it from the log in
    this layout, and its keys swept away."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def retire(self) -> None:
        """Checks answer unverifiable from now on, and the rebuild starts."""
        await self._redis.delete(keys.READY, keys.LAYOUT, keys.EPOCH)

    async def sweep(self, count: int = 1000) -> int:
        """Unlink every key under the prefix that this layout does not use; how many."""
        removed = 0
        async for raw in self._redis.scan_iter(match=keys.pattern(keys.PREFIX), count=count):
            key = _text(raw)
            if not key.startswith(keys.CURRENT):
                removed += await self._redis.unlink(key)
        return removed

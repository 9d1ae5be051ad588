"""The SDK's in-process answer cache: invalidated by Redis, bounded in age, distrusted when deaf.

An entry is served only while all of these hold:

* it is younger than the hard bound (default 1 s) and before the next opening or closing
  of any decision window it depends on;
* no invalidation for its track or any of its parties arrived since it was stored;
* the invalidation subscription is live -- while it is down (or was down since the entry
  was stored) nothing is served from the cache, because messages may have been missed;
* no invalidation at all arrived while its answer was being read from Redis (an answer
  read across a change is not stored), tracked by a generation counter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from consentry_domain import Answer


@dataclass(slots=True)
class _Entry:
    answer: Answer
    expires: float
    tags: tuple[str, ...]


class AnswerCache:
    def __init__(
        self,
        bound_s: float = 1.0,
        *,
        max_entries: int = 1_000_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bound_s = bound_s
        self._max = max_entries
        self._clock = clock
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._by_tag: dict[str, set[tuple[str, str]]] = {}
        self.generation = 0
        self.live = False
        self.hits = 0
        self.misses = 0
        self.invalidations = 0

    def get(self, isrc: str, purpose: str) -> Answer | None:
        if not self.live:
            return None
        entry = self._entries.get((isrc, purpose))
        if entry is None or self._clock() >= entry.expires:
            self.misses += 1
            return None
        self.hits += 1
        return entry.answer

    def put(
        self,
        answer: Answer,
        tags: Iterable[str],
        read_generation: int,
        valid_until: float | None = None,
    ) -> None:
        """Store an answer read from Redis when generation ``read_generation`` was current."""
        if not self.live or read_generation != self.generation or self.bound_s <= 0:
            return
        if len(self._entries) >= self._max:
            self.clear()
        expires = self._clock() + self.bound_s
        if valid_until is not None:
            expires = min(expires, valid_until)
        key = (answer.isrc, answer.purpose)
        entry = _Entry(answer, expires, tuple(tags))
        self._entries[key] = entry
        for tag in entry.tags:
            self._by_tag.setdefault(tag, set()).add(key)

    def invalidate(self, tag: str) -> None:
        """Drop every entry for ``p:<party>`` or ``t:<isrc>``, at once."""
        self.generation += 1
        self.invalidations += 1
        for key in self._by_tag.pop(tag, ()):
            self._entries.pop(key, None)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._by_tag.clear()

    def deaf(self) -> None:
        """The subscription is down: serve nothing from the cache until it is back."""
        self.live = False
        self.clear()

    def hearing(self) -> None:
        """Subscribed (again): start from empty, since messages may have been missed."""
        self.clear()
        self.live = True

    def __len__(self) -> int:
        return len(self._entries)

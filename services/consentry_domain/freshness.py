"""When checks may trust the state: how far each log partition is known to be applied.

The materialiser measures, per partition it holds, the moment up to which Redis holds
*all* of that partition; checks deny with ``unverifiable`` once that moment is older than
their bound. This module is the rule, with no I/O: the worker asks the broker for the log
end and Redis for what it applied, and ``measure`` says what that means.

* Everything before the log end is applied (lag 0): complete up to the moment the broker
  was asked -- every write acknowledged before then was in the end the broker gave
  (acks=all answers after the append), so it is applied.
* Behind: complete up to the later of the last moment it was seen caught up and the log
  time of the newest record applied. A quiet partition that has just received a record
  is then still complete up to a second ago, not up to its last record's time minutes
  ago (which made every check unverifiable until the record was applied).
* No answer from the broker: nothing new is claimed; the previous moment ages on its own
  and checks fail closed once it is older than their bound.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Seen:
    """What a worker remembers of one partition between two measurements."""

    caught_up_at_ms: int = 0
    """The last moment everything in the partition was found applied (0: never)."""
    applied_at_ms: int = 0
    """The log time of the newest record this worker applied (0: none)."""

    def applied(self, timestamps_ms: Iterable[int]) -> Seen:
        """After applying records with these log times."""
        newest = max(timestamps_ms, default=0)
        return self if newest <= self.applied_at_ms else replace(self, applied_at_ms=newest)


@dataclass(frozen=True, slots=True)
class Measured:
    seen: Seen
    """What to remember until the next measurement."""
    complete_to_ms: int | None
    """The moment up to which the partition is applied; None: claim nothing new."""
    lag: int | None
    """Records in the log not applied yet; None: unknown (the broker did not answer)."""


def measure(seen: Seen, asked_at_ms: int, log_end: int | None, applied_offset: int) -> Measured:
    """One partition's freshness: ``log_end`` is the next offset the broker will give
    (None: it did not answer), asked at ``asked_at_ms``; ``applied_offset`` the highest
    offset applied (-1: none)."""
    if log_end is None:
        return Measured(seen, None, None)
    lag = max(0, log_end - (applied_offset + 1))
    if lag == 0:
        return Measured(replace(seen, caught_up_at_ms=asked_at_ms), asked_at_ms, 0)
    return Measured(seen, max(seen.caught_up_at_ms, seen.applied_at_ms), lag)

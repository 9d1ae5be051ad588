"""Which downstream system owes which receipt, and by when: the rule, with no I/O.

A downstream system registered at ``registered_at`` for some purposes owes a receipt for
each change on the feed whose purpose one of them covers (a system registered for
``ai.generation`` owes the changes of ``ai.generation.voice``) and that was published at
or after its registration -- never for what happened before it existed. The receipt is
due ``deadline_s`` after the change was published. Re-registering a system (new purposes,
new deadline) applies from the new registration on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from consentry_domain.purposes import covers


@dataclass(frozen=True, slots=True)
class Terms:
    """A registered downstream system, as far as receipts go."""

    name: str
    purposes: tuple[str, ...]
    registered_at: datetime
    deadline_s: int


@dataclass(frozen=True, slots=True)
class Owed:
    system: str
    due_ms: int


def owed(systems: Iterable[Terms], purpose: str, published_at: datetime) -> list[Owed]:
    """The receipts a change of ``purpose`` published at ``published_at`` is owed."""
    published_ms = int(published_at.timestamp() * 1000)
    return [
        Owed(s.name, published_ms + s.deadline_s * 1000)
        for s in systems
        if s.registered_at <= published_at and any(covers(p, purpose) for p in s.purposes)
    ]

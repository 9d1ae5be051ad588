"""An event at its place in the log: what every reader of the logs hands on.

The materialiser, the rebuild, the write API's history and the tests all read records
from Kafka and decode them; each gets a ``LoggedEvent`` -- the event with its topic,
partition and offset (its place, and for a party its order), its log time and, for a
party's event, its chain link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from consentry_events.codec import DecodeError, decode, record_hash
from consentry_events.disclosure import DisclosureStated
from consentry_events.models import (
    AnyEvent,
    ConsentChanged,
    ConsentChangedMany,
    DelegationChanged,
    TrackChanged,
)

E = TypeVar("E", bound=AnyEvent, covariant=True)


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """A record's place in the log."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class LoggedEvent(Generic[E]):
    topic: str
    partition: int
    offset: int
    event: E
    digest: str = ""
    """SHA-256 of the record's value for a party's event (the next one's ``prev_hash``);
    empty for a track."""
    timestamp_ms: int = 0
    """The record's log time (Kafka timestamp)."""

    @property
    def position(self) -> Position:
        return Position(self.topic, self.partition, self.offset)

    @property
    def event_id(self) -> str:
        """The decision's, delegation's or statement's id; the ISRC for a track record."""
        return event_id(self.event)


def event_id(event: AnyEvent) -> str:
    if isinstance(event, ConsentChanged | ConsentChangedMany):
        return str(event.decision_id)
    if isinstance(event, DelegationChanged):
        return str(event.delegation_id)
    if isinstance(event, DisclosureStated):
        return str(event.statement_id)
    return event.isrc


def is_party_event(event: AnyEvent) -> bool:
    """Decisions, delegations and disclosure statements: a party's hash-chained history."""
    return not isinstance(event, TrackChanged)


def read_event(
    topic: str, partition: int, offset: int, value: bytes | None, timestamp_ms: int = 0
) -> LoggedEvent[AnyEvent]:
    """Decode a record's value; raises ``DecodeError`` (saying why) for a non-event."""
    event = decode(value)
    if value is None:  # decode refuses a record without a value: never here
        raise DecodeError("record has no value")
    digest = record_hash(value) if is_party_event(event) else ""
    return LoggedEvent(topic, partition, offset, event, digest, timestamp_ms)

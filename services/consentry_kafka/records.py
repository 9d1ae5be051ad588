"""A record as read from a Consentry topic, before it is decoded."""

from __future__ import annotations

from dataclasses import dataclass

from consentry_events import AnyEvent
from consentry_events.logged import LoggedEvent, read_event


@dataclass(frozen=True, slots=True)
class LogRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int = 0
    """The record's log time (Kafka timestamp)."""

    def decoded(self) -> LoggedEvent[AnyEvent]:
        """The event at this place; raises ``DecodeError`` (saying why) for a non-event."""
        return read_event(self.topic, self.partition, self.offset, self.value, self.timestamp_ms)

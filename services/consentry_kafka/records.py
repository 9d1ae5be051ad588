"""A record as read from a Consentry topic, before it is decoded."""

from __future__ import annotations

from dataclasses import dataclass

from consentry_events import AnyEvent
from consentry_events.logged import LoggedEvent, read_event
from consentry_kafka.signatures import EventVerifier, Refused


@dataclass(frozen=True, slots=True)
class LogRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int = 0
    """The record's log time (Kafka timestamp)."""
    headers: tuple[tuple[str, bytes], ...] = ()

    def decoded(self, trust: EventVerifier | None) -> LoggedEvent[AnyEvent]:
        """The event at this place; raises ``DecodeError`` (saying why) for a non-event,
        and ``Refused`` (a ``DecodeError``) for one ``trust`` does not admit -- every
        reader that acts on the signed topics passes its verifier (``None``: the topic's
        records are not judged by signature, e.g. a test's own replay)."""
        if trust is not None:
            verdict = trust.verdict(
                self.topic, self.partition, self.offset, self.key, self.value, self.headers
            )
            if not verdict.admitted:
                raise Refused(verdict)
        return read_event(self.topic, self.partition, self.offset, self.value, self.timestamp_ms)

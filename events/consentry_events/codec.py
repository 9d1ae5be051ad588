"""JSON encoding of events and the Kafka key each event is partitioned by."""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError

from consentry_events.models import ConsentChanged, Event, TrackChanged

_ADAPTER: TypeAdapter[ConsentChanged | TrackChanged] = TypeAdapter(Event)


class DecodeError(ValueError):
    """A record that is not a valid Consentry event; the message says why."""


def encode(event: ConsentChanged | TrackChanged) -> bytes:
    return event.model_dump_json().encode()


def decode(data: bytes | None) -> ConsentChanged | TrackChanged:
    if data is None:
        raise DecodeError("record has no value")
    try:
        return _ADAPTER.validate_json(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<record>'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        )
        raise DecodeError(problems) from exc


def partition_key(event: ConsentChanged | TrackChanged) -> bytes:
    """Consent changes by party (one party's order lives on one partition), tracks by ISRC."""
    if isinstance(event, ConsentChanged):
        return event.party.encode()
    return event.isrc.encode()

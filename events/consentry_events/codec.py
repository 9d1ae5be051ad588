"""JSON encoding of events, the Kafka key each event is partitioned by, and record hashes."""

from __future__ import annotations

import hashlib

from pydantic import TypeAdapter, ValidationError

from consentry_events.models import AnyEvent, Event, TrackChanged

_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(Event)


class ContractError(ValueError):
    """Base of the event contract's errors: data that is not what the contract says."""


class DecodeError(ContractError):
    """A record that is not a valid Consentry event; the message says why."""


def encode(event: AnyEvent) -> bytes:
    return event.model_dump_json().encode()


def decode(data: bytes | None) -> AnyEvent:
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


def partition_key(event: AnyEvent) -> bytes:
    """A party's events by party (its order lives on one partition), tracks by ISRC."""
    if isinstance(event, TrackChanged):
        return event.isrc.encode()
    return event.party.encode()


def record_hash(value: bytes) -> str:
    """The link of a party's hash chain: hex SHA-256 of a record's value bytes."""
    return hashlib.sha256(value).hexdigest()

"""Events written straight to the consent and catalogue logs, signed as the write API
signs them: what tests and benchmarks that bypass the write API produce."""

from __future__ import annotations

from collections.abc import Sequence

from consentry_events import CATALOGUE, CONSENT_CHANGES, AnyEvent, TrackChanged, encode
from consentry_events import partition_key as key_of
from consentry_kafka.signatures import EventSigner, Headers

Record = tuple[str, bytes, bytes, Headers]
"""topic, key, value, headers."""


def topic_of(event: AnyEvent) -> str:
    return CATALOGUE.name if isinstance(event, TrackChanged) else CONSENT_CHANGES.name


def signed(signer: EventSigner, events: Sequence[AnyEvent]) -> list[Record]:
    """``events`` as records in the same order, each topic's signed as one batch."""
    encoded = [(topic_of(e), key_of(e), encode(e)) for e in events]
    headers: list[Headers] = [[] for _ in encoded]
    for topic in {t for t, _, _ in encoded}:
        places = [i for i, (t, _, _) in enumerate(encoded) if t == topic]
        batch = signer.sign(topic, [(encoded[i][1], encoded[i][2]) for i in places])
        for i, found in zip(places, batch, strict=True):
            headers[i] = found
    return [(t, k, v, h) for (t, k, v), h in zip(encoded, headers, strict=True)]

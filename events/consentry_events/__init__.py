"""Consentry's event contract: the records that cross Kafka, their topics and encoding.

Everything here is versioned data. Producers and consumers import these models and
nothing else decides what a record on a Consentry topic looks like.
"""

from consentry_events.codec import DecodeError, decode, encode, partition_key
from consentry_events.models import (
    Choice,
    ConsentChanged,
    EnforcementCause,
    EnforcementChanged,
    Event,
    Scope,
    TrackChanged,
    TrackStatus,
)
from consentry_events.topics import (
    CATALOGUE,
    CONSENT_CHANGES,
    DEAD_LETTER,
    ENFORCEMENT,
    TOPICS,
    TopicSpec,
)

__all__ = [
    "CATALOGUE",
    "CONSENT_CHANGES",
    "DEAD_LETTER",
    "ENFORCEMENT",
    "TOPICS",
    "Choice",
    "ConsentChanged",
    "DecodeError",
    "EnforcementCause",
    "EnforcementChanged",
    "Event",
    "Scope",
    "TopicSpec",
    "TrackChanged",
    "TrackStatus",
    "decode",
    "encode",
    "partition_key",
]

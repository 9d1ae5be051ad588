"""Consentry's event contract: the records that cross Kafka, their topics and encoding.

Everything here is versioned data. Producers and consumers import these models and
nothing else decides what a record on a Consentry topic looks like.
"""

from consentry_events.codec import (
    ContractError,
    DecodeError,
    decode,
    encode,
    partition_key,
    record_hash,
)
from consentry_events.disclosure import (
    AiCredit,
    AiLevel,
    DisclosureStated,
    Share,
    check_statement,
    most_inclusive,
)
from consentry_events.downstream import (
    DownstreamSystem,
    EnforcementCause,
    EnforcementChanged,
    ReceiptGiven,
    ReceiptStatus,
)
from consentry_events.models import (
    AnyEvent,
    Authority,
    Choice,
    ConsentChanged,
    ConsentChangedMany,
    Decision,
    DelegationAction,
    DelegationChanged,
    Event,
    PartyEvent,
    Scope,
    TrackChanged,
    TrackStatus,
)
from consentry_events.topics import (
    CATALOGUE,
    CONSENT_CHANGES,
    DEAD_LETTER,
    DOWNSTREAM_SYSTEMS,
    ENFORCEMENT,
    ENFORCEMENT_STATE,
    FEED_RETENTION_MS,
    RECEIPTS,
    TOPICS,
    TopicSpec,
)

__all__ = [
    "CATALOGUE",
    "CONSENT_CHANGES",
    "DEAD_LETTER",
    "DOWNSTREAM_SYSTEMS",
    "ENFORCEMENT",
    "ENFORCEMENT_STATE",
    "FEED_RETENTION_MS",
    "RECEIPTS",
    "TOPICS",
    "AiCredit",
    "AiLevel",
    "AnyEvent",
    "Authority",
    "Choice",
    "ConsentChanged",
    "ConsentChangedMany",
    "ContractError",
    "Decision",
    "DecodeError",
    "DelegationAction",
    "DelegationChanged",
    "DisclosureStated",
    "DownstreamSystem",
    "EnforcementCause",
    "EnforcementChanged",
    "Event",
    "PartyEvent",
    "ReceiptGiven",
    "ReceiptStatus",
    "Scope",
    "Share",
    "TopicSpec",
    "TrackChanged",
    "TrackStatus",
    "check_statement",
    "decode",
    "encode",
    "most_inclusive",
    "partition_key",
    "record_hash",
]

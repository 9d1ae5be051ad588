"""Consentry's Redis state: every key, every stored value, every script -- and nothing
outside this package names a key or parses a stored value (a test enforces it).

Redis holds a cache of the log that can be rebuilt from Kafka at any time. The names
are defined in ``keys``; per concern, one small reader/writer:

============================  ==========================================================
``StateWriter`` (writer)      apply a batch of log records atomically, with watermarks;
                              each partition's freshness (heartbeat)
``StateReader`` (reader)      everything a check needs for a batch of tracks, one trip
``LogProgress``,              watermarks, freshness, whole or not; the rebuild's epoch
``RebuildMarks`` (progress)   and replayed partitions
``ChainHeads`` (heads)        a party's chain head and a write's intent on it
``PartyWrites``               the write API's per-party lock, taken with the head read
(party_writes)                and the intent recorded, released with the head advanced
``IdempotencyRecords``        the write API's Idempotency-Key records
``Delegations``               who may decide for a party
``CatalogueIndex``,           the enforcer's own store (a Redis of its own): tracks a
``PublishedAnswers``,         decision reaches, answers last published downstream,
``DecisionWindows``,          windows opening or closing, fan-outs under way, whether
``FanOuts``, ``StoreMarks``   the store is whole
(enforcement)
``StoredState`` (stored)      a party's slots and a track's record, read back
``UsageViews`` (usage)        the meter's views of a party's usage and violations
``RateBuckets`` (limits)      the services' rate limits, a token bucket per principal
``StatementViews``            each party's view of the revenue statements published
(statements)                  for it
``ACL_RULES`` (acl)           each service's Redis user, from the key families
============================  ==========================================================

The layout (version 3; buckets and value formats in ``layout``, names in ``keys``):

``cs:t:<isrc[:10]>`` (hash, field ``isrc[10:]``)
    a track: ``<offset>|<upc>|<a|r>|<parties>``, then its track-scoped decisions (any
    party's) as slot lines.
``cs:rd``, ``cs:pd`` (hashes, field the UPC / the party)
    slot groups: a release's decisions (any party's), a party's party-wide ones.
``cs:h:<sha1(party)[:3]>`` (hash, field the party)
    the party's chain head ``<offset>|<hash>``, then lines naming the releases and
    tracks where it has scoped decisions; ``<party>|u``: a write's intent. Advanced by
    the materialiser and by the write API after each acknowledgement.
``cs:dg:<party>`` (hash)
    ``<delegate>|<purpose>`` -> ``<offset>|grant`` or ``<offset>|revoke``.
``cs:wm`` (hash)
    ``<topic>:<partition>`` -> highest offset applied (the watermark), written in the
    same script as the state it covers.
``cs:inv`` (pub/sub channel)
    ``p:<party>`` / ``t:<isrc>``, published by the apply script in the same atomic step
    as the change, for the SDK's in-process cache.
``cs:fresh`` (hash)
    ``<topic>:<partition>`` -> the time (epoch ms) up to which that partition's state is
    complete: now while its worker is caught up, else the last moment it was (or the log
    time of the last record it applied, if later); written only while ``cs:ready``
    exists. Checks take the least fresh.
``cs:idem:<digest>`` (string), ``cs:lock:<party>`` (string)
    the write API's Idempotency-Key records and per-party write locks.
``cs:ready``, ``cs:layout``, ``cs:epoch``, ``cs:rebuilt:<epoch>``
    the state holds the whole log, in that layout; the rebuild under way; partitions
    rebuilt in it.

In the enforcer's own store (``enforcement``): ``cs:e:pr:<party>`` (set of UPCs),
``cs:e:rt:<upc>`` (set of ISRCs), ``cs:e:pb:<isrc[:10]>`` (hash
``<isrc[10:]>|<purpose>`` -> answer last published), ``cs:e:due`` (sorted set of window
instants), ``cs:e:fan:<topic>:<partition>:<offset>`` (the last UPC a decision's fan-out has done),
``cs:e:whole`` (the store holds everything derived from the logs), ``cs:e:recovery``
(the worker rebuilding it, expiring).

Consentry runs on one Redis primary (with read replicas for checks), not Redis Cluster:
the read script derives release and party keys from track records.
"""

from consentry_state.delegations import Delegation, Delegations, Delegator
from consentry_state.enforcement import (
    CatalogueIndex,
    DecisionWindows,
    DueWindow,
    FanOuts,
    PublishedAnswers,
    StoreMarks,
)
from consentry_state.heads import ChainHeads, Head
from consentry_state.idempotency import IdempotencyRecords
from consentry_state.limits import RateBuckets
from consentry_state.party_writes import NewIntent, PartyWrites, StateNotWhole
from consentry_state.portal import PortalSession, PortalSessions
from consentry_state.progress import LogProgress, OldLayout, RebuildMarks
from consentry_state.reader import Snapshot, StateReader, TrackView
from consentry_state.receipts import DecisionPlace, Propagation, ReceiptBook, SystemProgress
from consentry_state.statements import PartyStatement, StatementViews
from consentry_state.stored import StoredState
from consentry_state.usage import UsageViews
from consentry_state.writer import StateWriter, ToApply, parts

__all__ = [
    "CatalogueIndex",
    "ChainHeads",
    "DecisionPlace",
    "DecisionWindows",
    "Delegation",
    "Delegations",
    "Delegator",
    "DueWindow",
    "FanOuts",
    "Head",
    "IdempotencyRecords",
    "LogProgress",
    "NewIntent",
    "OldLayout",
    "PartyStatement",
    "PartyWrites",
    "PortalSession",
    "PortalSessions",
    "Propagation",
    "PublishedAnswers",
    "RateBuckets",
    "RebuildMarks",
    "ReceiptBook",
    "Snapshot",
    "StateNotWhole",
    "StateReader",
    "StateWriter",
    "StatementViews",
    "StoreMarks",
    "StoredState",
    "SystemProgress",
    "ToApply",
    "TrackView",
    "UsageViews",
    "parts",
]

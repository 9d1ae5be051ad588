"""Consentry's Redis state: the keyspace, the atomic writes and the one-round-trip read.

Redis holds a cache of the log that can be rebuilt from Kafka at any time. Layout:

``cs:party:<party>`` (hash)
    one field per decision slot, ``<s>|<work>|<purpose>`` with ``s`` one of ``p``
    (party-wide, empty work), ``r`` (release, work = UPC), ``t`` (track, work = ISRC);
    the value is the slot as JSON ``{"f": floor, "e": [[offset, choice, id, from_ms,
    until_ms], ...]}``.
``cs:track:<isrc>`` (hash)
    ``o`` catalogue offset (version), ``u`` UPC, ``p`` space-separated parties, ``s`` status;
    ``a:<purpose>`` the answer last published (or baselined) on the enforcement topic.
``cs:pt:<party>``, ``cs:rt:<upc>`` (sets)
    the ISRCs a party holds rights in, and those on a release; kept by the same
    script that writes the track, used to find the tracks a decision affects.
``cs:due`` (sorted set)
    ``<ms>|<party>|<slot field>`` scored by a decision window's opening or closing.
``cs:wm`` (hash)
    ``<topic>:<partition>`` -> highest offset applied (the watermark), written in the
    same script as the state it covers.
``cs:inv`` (pub/sub channel)
    ``p:<party>`` / ``t:<isrc>``, published by the apply scripts in the same atomic step
    as the change, for the SDK's in-process cache.
``cs:fresh`` (hash)
    ``<topic>:<partition>`` -> the time (epoch ms) up to which that partition's state is
    complete: now while its worker is caught up, else the log time of the last record it
    applied; written only while ``cs:ready`` exists. Checks take the least fresh.
``cs:head:<party>`` (hash)
    the party's hash-chain head: ``o`` offset, ``h`` SHA-256 of that record, ``d`` its
    event id; advanced by the materialiser and by the write API after each acknowledgement.
``cs:dg:<party>`` (hash)
    ``<delegate>|<purpose>`` -> ``<offset>|grant`` or ``<offset>|revoke``.
``cs:idem:<digest>``, ``cs:lock:<party>``
    the write API's idempotency records and per-party write locks (see its package).
``cs:ready``, ``cs:epoch``, ``cs:rebuilt:<epoch>``
    the state holds the whole log; the rebuild under way; partitions rebuilt in it.

Consentry runs on one Redis primary (with read replicas for checks), not Redis Cluster:
the read script derives party keys from track records.
"""

from consentry_state.reader import Snapshot, StateReader, TrackView
from consentry_state.writer import Applied, StateWriter

__all__ = ["Applied", "Snapshot", "StateReader", "StateWriter", "TrackView"]

"""Redis ACL rules per role, derived from the layout: least privilege for each service.

* ``materialiser`` writes the consent state (every key of the layout), publishes
  invalidations, and nothing dangerous;
* ``writeapi`` reads the state and writes only its own records -- chain heads,
  delegations it has just had acknowledged, idempotency records and party locks;
* ``checker`` (check service, SDK, canary) reads the state and listens for
  invalidations: it can neither write nor delete a key, nor publish;
* ``enforcer`` reads the state to resolve answers, like a check, and nothing else;
* ``replica`` is what a read replica logs in as to copy the state: replication only;
* ``admin`` is for operators and tests (e.g. a fault test's FLUSHALL).

The enforcer's own store is another Redis, with ``STORE_ACL_RULES``.
"""

from __future__ import annotations

from consentry_state import keys

_ALL = keys.pattern(keys.PREFIX)
_WRITEAPI_OWN = (
    keys.head_bucket(""),
    keys.delegations_key(""),
    keys.delegators_key(""),
    keys.idempotency_key(""),
    keys.lock_key(""),
)

ACL_RULES = {
    "admin": "~* &* +@all",
    "materialiser": f"~{_ALL} resetchannels &{keys.INVALIDATIONS} +@all -@dangerous",
    "writeapi": " ".join(
        [
            f"%R~{_ALL}",
            *(f"%RW~{keys.pattern(own)}" for own in _WRITEAPI_OWN),
            "resetchannels +@all -@dangerous -@pubsub",
        ]
    ),
    "checker": f"%R~{_ALL} resetchannels &{keys.INVALIDATIONS} -@all +@read +@connection "
    "+subscribe +unsubscribe +evalsha_ro +eval_ro +script|load +script|exists",
    "enforcer": f"%R~{_ALL} resetchannels -@all +@read +@connection "
    "+evalsha_ro +eval_ro +script|load +script|exists",
    "replica": "resetchannels -@all +psync +replconf +ping",
}
"""Role -> the rules of ``ACL SETUSER`` (after ``on`` and the password)."""

STORE_ACL_RULES = {
    "admin": "~* &* +@all",
    "enforcer": f"~{keys.pattern(keys.ENFORCER_PREFIX)} resetchannels +@all -@dangerous",
    "receipts": f"~{keys.pattern(keys.RECEIPTS_PREFIX)} resetchannels +@all -@dangerous",
    "writeapi": " ".join(
        [
            *(
                f"%R~{pattern}"
                for pattern in (
                    keys.pattern(keys.RECEIPTS_PREFIX),
                    keys.pattern(keys.party_releases_key("")),
                    keys.pattern(keys.release_tracks_key("")),
                    keys.pattern(keys.title_place("")[0]),
                    keys.RELEASE_TITLES,
                    keys.pattern(keys.USAGE_PREFIX),
                )
            ),
            "resetchannels -@all +@read +@connection",
        ]
    ),
    "meter": f"~{keys.pattern(keys.usage_key(''))} ~{keys.pattern(keys.violations_key(''))} "
    "resetchannels +@all -@dangerous",
    "settle": f"~{keys.pattern(keys.STATEMENTS_PREFIX)} resetchannels -@all +@read +@write "
    "+@transaction +@connection -@dangerous",
    "limiter": f"~{keys.pattern(keys.LIMITS_PREFIX)} resetchannels -@all +@connection "
    "+evalsha +eval +script|load +script|exists +time +hmget +hset +pexpire",
    "portal": f"~{keys.pattern(keys.PORTAL_PREFIX)} resetchannels -@all +@read +@write "
    "+@transaction +@connection -@dangerous",
}
"""The enforcer's own store: the enforcer writes its keys, the receipts tracker its book,
the meter its usage views, ``consentry-admin statement --publish`` the statements, the
portal its sessions, the services' rate limiter (``limiter``) its token buckets, by
script only; the write API reads the book (a decision's receipt), the catalogue
index (a party's works) and the usage views (a party's usage, violations and
statements); operators administer."""

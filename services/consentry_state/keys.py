"""Every Redis key, field and tag name of the layout, defined once (see the package docstring).

Python code builds names with the functions here; the Lua scripts get the same prefixes
from ``LUA_NAMES``, prepended to every script as a table ``K`` (``K.party .. party``), so
no name is typed twice. Nothing outside this package names a key. Longer than a sitting
on purpose: every family of keys, for every service, is named in this one place.
"""

from __future__ import annotations

from consentry_domain import SlotKey
from consentry_events import Scope

PREFIX = "cs:"
"""Every key of the layout starts with it (ACL patterns rely on that)."""

WATERMARKS = PREFIX + "wm"
"""Hash ``<topic>:<partition>`` -> highest offset applied (the watermark)."""
READY = PREFIX + "ready"
"""Present while the state holds the whole log; removed with everything by a flush."""
EPOCH = PREFIX + "epoch"
"""The current rebuild's id, shared by every worker of the group."""
INVALIDATIONS = PREFIX + "inv"
"""Pub/sub channel: space-separated tags (``track_tag``, ``party_tag``) of what a batch changed."""
FRESHNESS = PREFIX + "fresh"
"""Hash ``<topic>:<partition>`` -> ms up to which that partition's state is complete."""
LAYOUT = PREFIX + "layout"
"""The layout version the state is written in (``layout.VERSION``), set with ``READY``."""

_TRACKS = PREFIX + "t:"
RELEASE_DECISIONS = PREFIX + "rd"
"""Hash ``<upc>`` -> the release's slot group (every party's release-scoped decisions)."""
PARTY_DECISIONS = PREFIX + "pd"
"""Hash ``<party>`` -> the party's own slot group (its party-wide decisions)."""
_HEADS = PREFIX + "h:"
_DELEGATIONS = PREFIX + "dg:"
_DELEGATORS = PREFIX + "dgto:"
_REBUILT = PREFIX + "rebuilt:"
_IDEMPOTENCY = PREFIX + "idem:"
_LOCK = PREFIX + "lock:"

# The enforcer's own store (a Redis of its own, not the check side's).
ENFORCER_PREFIX = PREFIX + "e:"
_E = ENFORCER_PREFIX
ENFORCER_DUE = _E + "due"
"""Sorted set ``<party>|<slot field>`` scored by a decision window's opening or closing."""
ENFORCER_WHOLE = _E + "whole"
"""Set once the store holds everything derived from the logs (after its recovery); a
lost or new store lacks it."""
ENFORCER_RECOVERY = _E + "recovery"
"""The worker recovering the store (expiring claim), so the others wait instead."""
_E_PARTY_RELEASES = _E + "pr:"
_E_RELEASE_TRACKS = _E + "rt:"
_E_PUBLISHED = _E + "pb:"
_E_TITLES = _E + "ti:"
RELEASE_TITLES = _E + "rn"
"""Enforcer store, hash: UPC -> the release's title (for people: the portal)."""
_E_FANOUT = _E + "fan:"

# The receipts tracker's keys, in the enforcer's store (see ``receipts``).
RECEIPTS_PREFIX = PREFIX + "r:"
_R = RECEIPTS_PREFIX
RC_SYSTEMS = _R + "sys"
"""Hash: downstream system name -> its registration (JSON)."""
RC_DECISIONS = _R + "id"
"""Hash: decision id -> ``<party>|<cause>|<recorded ms>``."""
RC_WATCH = _R + "watch"
"""Hash: cause -> ``<seen ms>``, decisions not yet seen applied by the check state."""
RC_COUNTED = _R + "counted"
"""Hash: feed partition -> the last offset counted into a decision's changes."""
_RC_CHANGES = _R + "chg:"
_RC_DUE = _R + "due:"
_RC_EARLY = _R + "early:"
_RC_DECISION = _R + "dec:"

# The portal's sessions and spent login links, in the enforcer's store (see ``portal``).
PORTAL_PREFIX = PREFIX + "p:"
_P_SESSION = PORTAL_PREFIX + "s:"
_P_LINK = PORTAL_PREFIX + "l:"


USAGE_PREFIX = PREFIX + "u:"
_U_PARTY = USAGE_PREFIX + "p:"
_U_VIOLATIONS = USAGE_PREFIX + "v:"
STATEMENTS_PREFIX = USAGE_PREFIX + "s:"
_S_PARTY = STATEMENTS_PREFIX + "p:"
_S_ISSUED = STATEMENTS_PREFIX + "i:"


def usage_key(party: str) -> str:
    """The meter's view of a rights holder's usage (hash): ``<counter>|<partition>`` ->
    units, each the meter table's value on that partition."""
    return _U_PARTY + party


def violations_key(party: str) -> str:
    """The meter's view of a rights holder's violations (hash): ``<reporter>|<use id>``
    -> the violation event's JSON."""
    return _U_VIOLATIONS + party


def statements_key(party: str) -> str:
    """A rights holder's revenue statements (hash): ``<period>|<pool>|json`` and
    ``<period>|<pool>|csv`` -> its own view of that statement."""
    return _S_PARTY + party


def issued_key(period: str, pool: str) -> str:
    """The parties a period's pool statement was published to (set), so publishing it
    again takes it from those it no longer names."""
    return f"{_S_ISSUED}{period}|{pool}"


LIMITS_PREFIX = PREFIX + "rl:"


def limit_key(principal: str) -> str:
    """A principal's token bucket (hash ``tokens``, ``at``) in the enforcer's store,
    shared by every instance of the services that limit it; expires once full again."""
    return LIMITS_PREFIX + principal


def portal_session_key(session_id: str) -> str:
    """Portal: a signed-in session (hash), expiring with it."""
    return _P_SESSION + session_id


def portal_link_key(link_id: str) -> str:
    """Portal: a login link already used (string), kept until the link expires."""
    return _P_LINK + link_id


TRACK_TAG = "t:"
PARTY_TAG = "p:"

SCOPE_CODES = {Scope.PARTY: "p", Scope.RELEASE: "r", Scope.TRACK: "t"}
SCOPES_BY_CODE = {code: scope for scope, code in SCOPE_CODES.items()}

CURRENT = (
    WATERMARKS,
    READY,
    EPOCH,
    FRESHNESS,
    LAYOUT,
    _TRACKS,
    RELEASE_DECISIONS,
    PARTY_DECISIONS,
    _HEADS,
    _DELEGATIONS,
    _DELEGATORS,
    _REBUILT,
    _IDEMPOTENCY,
    _LOCK,
)
"""What keys of this layout start with: anything else under PREFIX is an older layout's."""

LUA_NAMES = {
    "tracks": _TRACKS,
    "release_decisions": RELEASE_DECISIONS,
    "party_decisions": PARTY_DECISIONS,
    "heads": _HEADS,
    "delegations": _DELEGATIONS,
    "delegators": _DELEGATORS,
    "rebuilt": _REBUILT,
    "watermarks": WATERMARKS,
    "ready": READY,
    "epoch": EPOCH,
    "invalidations": INVALIDATIONS,
    "freshness": FRESHNESS,
    "layout": LAYOUT,
    "track_tag": TRACK_TAG,
    "party_tag": PARTY_TAG,
    "rc_counted": RC_COUNTED,
    "rc_changes": _RC_CHANGES,
    "rc_due": _RC_DUE,
    "rc_early": _RC_EARLY,
    "rc_decision": _RC_DECISION,
}
"""The names the Lua scripts use, as the table ``K``."""


def track_bucket(prefix: str) -> str:
    """Hash of the tracks whose ISRC starts with ``prefix``, each with its track-scoped
    decisions (see ``layout``)."""
    return _TRACKS + prefix


TRACK_BUCKETS_PATTERN = _TRACKS + "*"


def track_bucket_prefix(key: str) -> str:
    """The ISRC prefix of a ``track_bucket``."""
    return key.removeprefix(_TRACKS)


def head_bucket(hashed: str) -> str:
    """Hash of the chain heads (and write intents) of the parties whose hash starts so."""
    return _HEADS + hashed


def delegations_key(party: str) -> str:
    """The party's delegations: ``delegation_field`` -> ``<offset>|grant|revoke``."""
    return _DELEGATIONS + party


def delegation_field(delegate: str, purpose: str) -> str:
    return f"{delegate}|{purpose}"


def delegators_key(delegate: str) -> str:
    """Who delegated to ``delegate``, kept beside ``delegations_key`` by the same script:
    ``<party>|<purpose>`` -> ``<offset>|grant|revoke`` (a revoke stays: what the delegate
    did for the party under it is still its own record)."""
    return _DELEGATORS + delegate


def rebuilt_key(epoch: str) -> str:
    """Hash of the partitions replayed whole in rebuild ``epoch``."""
    return _REBUILT + epoch


def idempotency_key(digest: str) -> str:
    """The write API's record of one (principal, Idempotency-Key)."""
    return _IDEMPOTENCY + digest


def lock_key(party: str) -> str:
    """The write API's per-party write lock."""
    return _LOCK + party


def party_releases_key(party: str) -> str:
    """Enforcer store: set of the UPCs on which the party holds rights in a track."""
    return _E_PARTY_RELEASES + party


def release_tracks_key(upc: str) -> str:
    """Enforcer store: set of the ISRCs on the release."""
    return _E_RELEASE_TRACKS + upc


def release_of_tracks_key(key: str) -> str:
    """The UPC of a ``release_tracks_key``."""
    return key.removeprefix(_E_RELEASE_TRACKS)


RELEASE_TRACKS_PATTERN = _E_RELEASE_TRACKS + "*"


PUBLISHED_BUCKET_DIGITS = 10


def published_place(isrc: str, purpose: str) -> tuple[str, str]:
    """Enforcer store: where the answer last published for (track, purpose) is kept --
    a hash per ISRC prefix (as the check side's track buckets), field
    ``<rest of the ISRC>|<purpose>``, so a chunk of tracks is read and written with a
    command per bucket rather than per track."""
    cut = PUBLISHED_BUCKET_DIGITS
    return _E_PUBLISHED + isrc[:cut], f"{isrc[cut:]}|{purpose}"


def rc_due_key(system: str) -> str:
    """Receipts: a system's pending changes scored by when their receipt is due."""
    return _RC_DUE + system


def rc_decision_key(cause: str) -> str:
    """Receipts: a decision's propagation counts (``lua/receipts.lua``)."""
    return _RC_DECISION + cause


def title_place(isrc: str) -> tuple[str, str]:
    """Enforcer store: where a track's title is kept, bucketed like the published answers."""
    cut = PUBLISHED_BUCKET_DIGITS
    return _E_TITLES + isrc[:cut], isrc[cut:]


def fanout_key(topic: str, partition: int, offset: int) -> str:
    """Enforcer store: how far the fan-out of the decision at that place has got."""
    return f"{_E_FANOUT}{topic}:{partition}:{offset}"


def slot_field(key: SlotKey) -> str:
    return f"{SCOPE_CODES[key.scope]}|{key.work}|{key.purpose}"


def parse_slot_field(party: str, field: str) -> SlotKey:
    code, work, purpose = field.split("|", 2)
    return SlotKey(party, SCOPES_BY_CODE[code], work, purpose)


def watermark_field(topic: str, partition: int) -> str:
    return f"{topic}:{partition}"


def track_tag(isrc: str) -> str:
    """Invalidation tag: the track's record changed."""
    return TRACK_TAG + isrc


def party_tag(party: str) -> str:
    """Invalidation tag: one of the party's decisions changed."""
    return PARTY_TAG + party


def pattern(prefix_of: str) -> str:
    """ACL key pattern of a family of keys: ``pattern(head_key(""))`` -> ``cs:head:*``."""
    return prefix_of + "*"

"""The signature part of the event contract: which topics are signed, the headers a
signed record carries, the Merkle tree a batch is signed as, and what a reader makes of
a record (``Verdict``). Pure (hashlib); the keys and Ed25519 are
``consentry_kafka.signatures``'s.

A leaf is ``SHA-256(0x00 || topic || key || value)``, each length-prefixed (4 bytes, big
endian; a missing key or value is ``0xffffffff`` alone); a node is ``SHA-256(0x01 ||
left || right)``; an odd node goes up unpaired. A record's ``consentry-path`` header is
its way to the root, a step of 33 bytes per level (one byte: 1 when the sibling is on
the right, 0 when on the left; 32 bytes of the sibling's hash). ``consentry-sig`` is the
Ed25519 signature over ``SIGNED_CONTEXT || root``; ``consentry-kid`` the signing key's
RFC 7638 thumbprint.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterator, Sequence

from consentry_events.topics import CATALOGUE, CONSENT_CHANGES

SIGNED_TOPICS = frozenset({CONSENT_CHANGES.name, CATALOGUE.name})
KEY_ID, SIGNATURE, PATH = "consentry-kid", "consentry-sig", "consentry-path"
SIGNED_CONTEXT = b"consentry-events/1\x00"
STEP = 33
MAX_STEPS = 40
"""The longest path a reader climbs (a batch of up to 2**40 records): a longer one is refused."""
"""A path step: one byte (1: the sibling is on the right, 0: on the left), 32 of hash."""


class Verdict(enum.StrEnum):
    """What a reader makes of a record of a signed topic."""

    SIGNED = "signed"
    LEGACY = "legacy"
    """Unsigned, before its partition's cut-over: admitted as history."""
    UNSIGNED = "unsigned"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"

    NOT_JUDGED = "not_judged"
    """Read by a tool without a key set, or a topic that is not signed."""

    @property
    def admitted(self) -> bool:
        return self in (Verdict.SIGNED, Verdict.LEGACY, Verdict.NOT_JUDGED)


_sha256 = hashlib.sha256


_ABSENT = b"\xff\xff\xff\xff"
"""A missing key or value, framed: not the same as an empty one."""


def _framed(part: bytes | None) -> bytes:
    return _ABSENT if part is None else len(part).to_bytes(4, "big") + part


def leaf(topic: str, key: bytes | None, value: bytes | None) -> bytes:
    t = topic.encode()
    return _sha256(
        b"".join((b"\x00", len(t).to_bytes(4, "big"), t, _framed(key), _framed(value)))
    ).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


def tree(leaves: Sequence[bytes]) -> tuple[bytes, list[bytes]]:
    """The root over ``leaves`` (at least one) and each leaf's path to it. A node keeps
    its place halved at each level (an odd last one goes up alone), so a leaf's node at
    level ``n`` is ``i >> n`` and its sibling ``(i >> n) ^ 1``."""
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        below = levels[-1]
        up = [_node(below[j], below[j + 1]) for j in range(0, len(below) - 1, 2)]
        if len(below) % 2:
            up.append(below[-1])
        levels.append(up)
    paths = []
    for i in range(len(leaves)):
        steps = []
        for depth, level in enumerate(levels[:-1]):
            j = i >> depth
            sibling = j ^ 1
            if sibling < len(level):
                steps.append((b"\x01" if sibling > j else b"\x00") + level[sibling])
        paths.append(b"".join(steps))
    return levels[-1][0], paths


def climb(start: bytes, path: bytes) -> Iterator[bytes]:
    """Each node ``path`` passes through from ``start``, the root last; ``ValueError``
    for a malformed path (the nodes before it are given first)."""
    if len(path) % STEP:
        raise ValueError("a path is whole steps of 33 bytes")
    at = start
    for i in range(0, len(path), STEP):
        side, sibling = path[i], path[i + 1 : i + STEP]
        if side == 1:
            at = _node(at, sibling)
        elif side == 0:
            at = _node(sibling, at)
        else:
            raise ValueError(f"a step's side is 0 or 1, not {side}")
        yield at


def root_of(start: bytes, path: bytes) -> bytes | None:
    """The root ``path`` leads to from ``start``; ``None`` for a malformed path."""
    at = start
    try:
        for at in climb(start, path):  # noqa: B007 -- the last node is the root
            pass
    except ValueError:
        return None
    return at

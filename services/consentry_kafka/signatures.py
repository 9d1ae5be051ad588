"""Who wrote an event: Ed25519 signatures on the consent and catalogue topics.

Kafka's ACLs say who may produce; a signature says who did, and it travels with the
record wherever the log is copied. The write API signs every record it writes to
``SIGNED_TOPICS`` with a key of its own (not the token key); every reader that acts on
those topics -- the materialiser, the enforcer, the meter, the chain verifier -- admits
a record only when it is validly signed by a key of its key set (``KeySet``: a JWKS
file, reloaded without a restart, so event keys rotate as token keys do).

What is signed: a batch of records at once, as a Merkle tree (its shape and the
headers are the event contract's: ``consentry_events.signing``). The signature is over
the tree's root; each record carries, in its headers, the key id, the signature and its
path to the root. A reader hashes its way up the path (a few microseconds) and
verifies a root's signature once (Ed25519 verification costs ~100 µs here: once per
record would halve the materialiser). A single record is a tree of one.

Existing unsigned history is admitted only before a configured cut-over offset per
partition (``signed_from``): such records are *legacy*, and reported so; at or after
it, an unsigned record is refused like a forged one.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from consentry_auth.keyset import LOOK_EVERY_S, KeySet, file_stamp, key_id
from consentry_events import DecodeError
from consentry_events.signing import (
    KEY_ID,
    MAX_STEPS,
    PATH,
    SIGNATURE,
    SIGNED_CONTEXT,
    SIGNED_TOPICS,
    STEP,
    Verdict,
    leaf,
    tree,
)

log = logging.getLogger(__name__)
_sha256 = hashlib.sha256
Headers = list[tuple[str, bytes]]


class Refused(DecodeError):
    """A record of a signed topic that is not validly signed: never acted on."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(f"not validly signed: {verdict.value}")
        self.verdict = verdict


def _private(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("an event signing key must be an Ed25519 private key")
    return key


class EventSigner:
    """Signs what one producer writes to the signed topics, with the private key (PEM) in
    ``path`` -- read again when the file changes (looked at once a second at most), so
    the signing key is rotated without a restart: put the new key's public half in the
    readers' key set first, then the new private key here. With ``trusted`` (the
    producer's own view of the readers' key set), a new key not in it is not used yet:
    events it signed would be refused, so the old key signs until the set names it."""

    def __init__(self, path: Path, trusted: KeySet | None = None) -> None:
        self._path = path
        self._trusted = trusted
        self._stamp = file_stamp(path)
        self._key = _private(path.read_bytes())
        self._looked = time.monotonic()

    @property
    def key_id(self) -> str:
        return key_id(self._key.public_key())

    def _current(self) -> Ed25519PrivateKey:
        now = time.monotonic()
        if now - self._looked >= LOOK_EVERY_S:
            self._looked = now
            try:
                stamp = file_stamp(self._path)
                if stamp != self._stamp:
                    self._take(_private(self._path.read_bytes()), stamp)
            except (OSError, ValueError) as exc:
                log.warning("kept the event signing key: %s: %s", self._path, exc)
        return self._key

    def _take(self, key: Ed25519PrivateKey, stamp: tuple[int, int, int]) -> None:
        kid = key_id(key.public_key())
        named = self._trusted.keys(fresh=True) if self._trusted is not None else {kid: None}
        if kid not in named:
            log.warning("not signing with key %s yet: the event key set does not name it", kid)
            return  # looked at again in a second
        self._key, self._stamp = key, stamp
        log.info("signing events with key %s now", kid)

    def sign(self, topic: str, records: Sequence[tuple[bytes | None, bytes]]) -> list[Headers]:
        """The headers of each of ``records`` (key, value), signed as one batch."""
        if not records:
            return []
        key = self._current()
        root, paths = tree([leaf(topic, k, value) for k, value in records])
        signature = key.sign(SIGNED_CONTEXT + root)
        kid = key_id(key.public_key()).encode()
        return [[(KEY_ID, kid), (SIGNATURE, signature), (PATH, path)] for path in paths]


@dataclass(frozen=True, slots=True)
class CutOver:
    """Per (topic, partition): the first offset that must be signed (0 where unnamed)."""

    signed_from: Mapping[tuple[str, int], int]

    @classmethod
    def parse(cls, text: str) -> CutOver:
        """``topic:partition=offset`` items, comma-separated (``ValueError`` saying why not)."""
        found: dict[tuple[str, int], int] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            place, equals, offset = item.rpartition("=")
            topic, colon, partition = place.rpartition(":")
            if not (equals and colon and topic in SIGNED_TOPICS):
                raise ValueError(f"not topic:partition=offset of a signed topic: {item!r}")
            if not (partition.isdigit() and offset.isdigit()):
                raise ValueError(f"partition and offset must be whole numbers: {item!r}")
            found[topic, int(partition)] = int(offset)
        return cls(found)

    def legacy(self, topic: str, partition: int, offset: int) -> bool:
        return offset < self.signed_from.get((topic, partition), 0)

    def text(self) -> str:
        return ",".join(f"{t}:{p}={o}" for (t, p), o in sorted(self.signed_from.items()))


class EventVerifier:
    """Judges records of the signed topics by a key set and a cut-over.

    It remembers the tree nodes it has seen lead to a validly signed root, each with the
    rest of its path and the key id and signature above it: a record whose path meets
    such a node with the same rest, key id and signature is verified (finding another
    way to that node means a SHA-256 collision), so a batch's records cost about two
    hashes each after the first, and one signature check per batch -- and the verdict
    is the one a reader that remembers nothing gives (a record whose headers differ
    anywhere is climbed and checked in full). What it remembers is forgotten when the
    key set changes, so a retired key's trees stop counting at once."""

    def __init__(self, keys: KeySet | None, cut_over: CutOver, remember: int = 65_536) -> None:
        self._keys = keys
        self._cut_over = cut_over
        self._remember = remember
        self._known: dict[bytes, tuple[bytes, bytes, bytes]] = {}
        """node -> (the rest of the path above it, key id, signature)."""
        self._version = -1

    def verdict(
        self,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes]],
    ) -> Verdict:
        if topic not in SIGNED_TOPICS:
            return Verdict.NOT_JUDGED
        kid = signature = path = None
        for name, data in headers:
            if name == PATH:
                path = data
            elif name == SIGNATURE:
                signature = data
            elif name == KEY_ID:
                kid = data
        if kid is None or signature is None or path is None:
            unsigned = kid is None and signature is None and path is None
            legacy = unsigned and self._cut_over.legacy(topic, partition, offset)
            return Verdict.LEGACY if legacy else Verdict.UNSIGNED
        keys = self._current()
        known = self._known
        at = leaf(topic, key, value)
        walked: list[tuple[bytes, int]] = []
        if len(path) % STEP or len(path) > MAX_STEPS * STEP:
            return Verdict.BAD_SIGNATURE
        for i in range(0, len(path), STEP):  # climb, inlined: this runs for every record
            side = path[i]
            if side == 1:
                at = _sha256(b"\x01" + at + path[i + 1 : i + STEP]).digest()
            elif side == 0:
                at = _sha256(b"\x01" + path[i + 1 : i + STEP] + at).digest()
            else:
                return Verdict.BAD_SIGNATURE
            walked.append((at, i + STEP))
            if known.get(at) == (path[i + STEP :], kid, signature):
                self._learn(walked, path, kid, signature)
                return Verdict.SIGNED
        verdict = self._signed(keys, kid, signature, at)
        if verdict is Verdict.SIGNED:
            self._learn(walked, path, kid, signature)
        return verdict

    def _learn(
        self, walked: Sequence[tuple[bytes, int]], path: bytes, kid: bytes, signature: bytes
    ) -> None:
        """The ``walked`` nodes (each with where the rest of ``path`` starts) lead to a
        root validly signed as ``kid`` and ``signature`` say."""
        for node, rest in walked:
            self._known[node] = (path[rest:], kid, signature)
        while len(self._known) > self._remember:
            del self._known[next(iter(self._known))]

    def _current(self) -> Mapping[str, Ed25519PublicKey]:
        if self._keys is None:
            return {}
        keys = self._keys.keys()
        if self._keys.version != self._version:
            self._version = self._keys.version
            self._known.clear()
        return keys

    def _signed(
        self, keys: Mapping[str, Ed25519PublicKey], kid: bytes, signature: bytes, root: bytes
    ) -> Verdict:
        name = kid.decode(errors="replace")
        public = keys.get(name)
        if public is None and self._keys is not None:
            # Named in the file a moment ago? Look now rather than at the next second: a
            # just-added key's first event must not be refused.
            public = self._keys.keys(fresh=True).get(name)
        if public is None:
            return Verdict.UNKNOWN_KEY
        try:
            public.verify(signature, SIGNED_CONTEXT + root)
        except InvalidSignature:
            return Verdict.BAD_SIGNATURE
        return Verdict.SIGNED

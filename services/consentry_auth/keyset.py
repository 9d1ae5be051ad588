"""The public keys that verify tokens, by key id, reloaded from their file without a
restart -- so a signing key can be rotated with no downtime.

A key's id is its RFC 7638 thumbprint (SHA-256 over the JWK's required members,
base64url): the same key has the same id everywhere, nobody picks one. Tokens carry it
in their header (``kid``). The file is either one public key (PEM, as ``consentry-admin
keygen`` writes it) or a JSON Web Key Set (``{"keys": [{"kty": "OKP", "crv": "Ed25519",
"x": …}, …]}``, as ``consentry-admin keys add|retire`` keeps it). A service looks at the
file's modification time at most once a second and reads it again when it changed; a
file that cannot be read or parsed leaves the keys it had (and says so in the log).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

log = logging.getLogger(__name__)

LOOK_EVERY_S = 1.0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def file_stamp(path: Path) -> tuple[int, int, int]:
    """What changes when the file does: its time, inode (a file renamed over it) and size."""
    found = os.stat(path)
    return (found.st_mtime_ns, found.st_ino, found.st_size)


def key_id(key: Ed25519PublicKey) -> str:
    """The key's RFC 7638 thumbprint."""
    members = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": _b64(_raw(key))}, separators=(",", ":")
    )
    return _b64(hashlib.sha256(members.encode()).digest())


def jwk(key: Ed25519PublicKey) -> dict[str, str]:
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64(_raw(key)), "kid": key_id(key), "use": "sig"}


def public_key_of_pem(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def parse_keys(data: bytes) -> dict[str, Ed25519PublicKey]:
    """Key id -> key, from a PEM public key or a JWKS document (``ValueError`` saying
    why not, whatever is wrong with it)."""
    try:
        return _parse_keys(data)
    except (TypeError, AttributeError, KeyError) as exc:
        raise ValueError(f"not a key set: {exc!r}") from exc


def _parse_keys(data: bytes) -> dict[str, Ed25519PublicKey]:
    if data.lstrip().startswith(b"{"):
        found: dict[str, Ed25519PublicKey] = {}
        for entry in json.loads(data).get("keys", []):
            if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
                raise ValueError(f"not an Ed25519 key: {entry}")
            raw = base64.urlsafe_b64decode(entry["x"] + "=" * (-len(entry["x"]) % 4))
            key = Ed25519PublicKey.from_public_bytes(raw)
            found[key_id(key)] = key
        if not found:
            raise ValueError("the key set holds no key")
        return found
    key = public_key_of_pem(data)
    return {key_id(key): key}


def key_set_json(keys: Mapping[str, Ed25519PublicKey]) -> str:
    return json.dumps({"keys": [jwk(k) for _, k in sorted(keys.items())]}, indent=1) + "\n"


class KeySet:
    """The verifying keys, from ``path`` (reloaded when it changes) or fixed ``data``."""

    def __init__(self, path: Path | None = None, data: bytes | None = None) -> None:
        if (path is None) == (data is None):
            raise ValueError("a key set comes from a file or from data, one of them")
        self._path = path
        self._keys = parse_keys(path.read_bytes() if path is not None else data or b"")
        self._stamp = self._mtime()
        self._looked = time.monotonic()
        self.version = 0
        """Goes up each time the keys change (a verifier forgets what it verified)."""

    def _mtime(self) -> tuple[int, int, int]:
        return (0, 0, 0) if self._path is None else file_stamp(self._path)

    def keys(self, fresh: bool = False) -> Mapping[str, Ed25519PublicKey]:
        """The keys; ``fresh``: look at the file now, not only once a second."""
        now = time.monotonic()
        if self._path is not None and (fresh or now - self._looked >= LOOK_EVERY_S):
            self._looked = now
            self._reload()
        return self._keys

    def _reload(self) -> None:
        if self._path is None:
            return
        try:
            stamp = self._mtime()
            if stamp == self._stamp:
                return
            keys = parse_keys(self._path.read_bytes())
        except (OSError, ValueError) as exc:
            log.warning("kept the verifying keys: %s could not be read: %s", self._path, exc)
            return
        self._stamp = stamp
        if keys.keys() != self._keys.keys():
            log.info("verifying keys now %s", sorted(keys))
            self._keys = keys
            self.version += 1

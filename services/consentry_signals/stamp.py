"""A track's AI reservations inside its audio files: a C2PA manifest carrying the CAWG
training-and-data-mining assertion of the track's consent now, and Consentry's own
assertion naming the track and the change feed's cursor at stamping -- so a pipeline
holding stamped files learns from the feed which of them changed since.

Signed with a configured certificate chain and key (``c2pa-python``: WAV, MP3, FLAC and
M4A; no timestamp authority, nothing fetched). A file already carrying a manifest (an
earlier stamp, or the label's) is stamped as an edit of it: the history stays in the
file, the newest manifest is the one read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from c2pa import (
    Builder,
    C2paBuilderIntent,
    C2paDigitalSourceType,
    C2paError,
    C2paSignerInfo,
    C2paSigningAlg,
    Reader,
    Signer,
)

from consentry_signals.terms import CAWG_LABEL, Signals

OWN_LABEL = "org.consentry.consent"
"""Consentry's assertion: the track, the feed cursor at stamping, when, and the answers."""
TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".flac": "audio/flac", ".m4a": "audio/mp4"}
_SOURCE = {
    "all": C2paDigitalSourceType.TRAINED_ALGORITHMIC_MEDIA,
    "partly": C2paDigitalSourceType.COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA,
}
"""A recording disclosed as AI-made says so as the IPTC digital source type too."""


class StampError(Exception):
    """The file cannot be stamped or read (its type, its bytes, the certificate)."""


@dataclass(frozen=True)
class Credentials:
    """A C2PA signing certificate chain (leaf first) and its private key, PEM."""

    chain: bytes
    key: bytes
    algorithm: str = "es256"

    @classmethod
    def from_files(cls, chain: Path, key: Path, algorithm: str = "es256") -> Credentials:
        return cls(chain.read_bytes(), key.read_bytes(), algorithm)

    def signer(self) -> Signer:
        alg = C2paSigningAlg[self.algorithm.upper()]
        return Signer.from_info(C2paSignerInfo(alg, self.chain, self.key, None))


@dataclass(frozen=True)
class Stamp:
    """What a stamped file says."""

    isrc: str
    cursor: str | None
    stamped_at: str
    entries: dict[str, Any]
    """The CAWG assertion's entries."""
    validation: str
    """``Valid`` (or ``Trusted`` with a trust anchor); ``Invalid`` when altered."""


def _type(path: Path) -> str:
    try:
        return TYPES[path.suffix.lower()]
    except KeyError:
        known = ", ".join(sorted(TYPES))
        raise StampError(f"{path.name}: not an audio type that can be stamped ({known})") from None


def stamp(
    source: Path,
    target: Path,
    isrc: str,
    signals: Signals,
    credentials: Credentials,
    *,
    cursor: str | None,
    disclosure: str | None = None,
) -> None:
    """Write ``target``: ``source`` with a signed manifest of ``signals``."""
    mime = _type(source)
    own = {"isrc": isrc, "cursor": cursor, "stamped_at": datetime.now(UTC).isoformat()}
    manifest = {
        "claim_generator_info": [{"name": "consentry", "version": "1"}],
        "title": target.name,
        "format": mime,
        "assertions": [signals.cawg_assertion(), {"label": OWN_LABEL, "data": own}],
    }
    with source.open("rb") as stream:
        stamped_before = Reader.try_create(mime, stream) is not None
    try:
        with Builder(manifest) as builder, source.open("rb") as src, target.open("w+b") as out:
            if stamped_before:
                builder.set_intent(C2paBuilderIntent.EDIT)
            else:
                kind = _SOURCE.get(disclosure or "", C2paDigitalSourceType.DIGITAL_CAPTURE)
                builder.set_intent(C2paBuilderIntent.CREATE, kind)
            builder.sign(credentials.signer(), mime, src, out)
    except C2paError as exc:
        raise StampError(f"{source.name}: {exc}") from exc


def read(path: Path) -> Stamp | None:
    """The newest Consentry stamp of the file; None when it has none."""
    mime = _type(path)
    try:
        with path.open("rb") as stream:
            reader = Reader.try_create(mime, stream)
            if reader is None:
                return None
            store = json.loads(reader.json())
            state = str(reader.get_validation_state())
    except C2paError as exc:
        raise StampError(f"{path.name}: {exc}") from exc
    active = store["manifests"][store["active_manifest"]]
    found = {a["label"]: a["data"] for a in active.get("assertions", [])}
    if OWN_LABEL not in found:
        return None
    own = found[OWN_LABEL]
    entries = found.get(CAWG_LABEL, {}).get("entries", {})
    return Stamp(own["isrc"], own.get("cursor"), own["stamped_at"], entries, state)

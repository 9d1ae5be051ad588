"""A track's consent as the reservation formats say it -- pure: the answers per purpose in,
each format's terms out, through a configurable mapping (``default_terms.toml``).

* **W3C TDMRep** (final community group report): ``tdm-reservation`` ``1`` when any
  purpose of ``[tdmrep]`` is denied, else ``0``; ``tdm-policy`` (a URL) with a
  reservation when configured.
* **IETF AI preferences** (draft-ietf-aipref-vocab, -attach): a ``Content-Usage`` field,
  an RFC 9651 dictionary of categories (``train-ai``) to tokens ``y`` / ``n``.
* **CAWG training-and-data-mining assertion 1.1**: ``cawg.training-mining`` with an
  ``entries`` map, each ``{"use": "allowed" | "notAllowed"}``.

Most restrictive wins, across purposes mapped to one term as across rights holders: a
term is reserved (``1``, ``n``, ``notAllowed``) when any of its purposes is denied. A
purpose no format maps is said in none of them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from http_sf import Token, ser

CAWG_LABEL = "cawg.training-mining"


@dataclass(frozen=True)
class Terms:
    """Which purposes each format speaks of."""

    tdm_purposes: tuple[str, ...]
    tdm_policy: str | None
    aipref: Mapping[str, tuple[str, ...]]
    cawg: Mapping[str, tuple[str, ...]]

    @property
    def purposes(self) -> list[str]:
        """Every purpose some format speaks of: what a check must be asked."""
        named = {*self.tdm_purposes}
        for mapped in (*self.aipref.values(), *self.cawg.values()):
            named.update(mapped)
        return sorted(named)

    @classmethod
    def load(cls, path: Path | None = None) -> Terms:
        text = (
            path.read_text()
            if path is not None
            else resources.files("consentry_signals").joinpath("default_terms.toml").read_text()
        )
        document = tomllib.loads(text)
        tdm = document.get("tdmrep", {})
        return cls(
            tuple(tdm.get("purposes", ())),
            tdm.get("policy"),
            {k: tuple(v) for k, v in document.get("aipref", {}).items()},
            {k: tuple(v) for k, v in document.get("cawg", {}).items()},
        )


@dataclass(frozen=True)
class Signals:
    """One track's reservations, in every format."""

    tdm_reservation: int
    tdm_policy: str | None
    content_usage: dict[str, str]
    """Category -> ``y`` / ``n``."""
    cawg: dict[str, str] = field(default_factory=dict)
    """Entry -> ``allowed`` / ``notAllowed``."""

    def headers(self) -> dict[str, str]:
        """The response headers a media server copies onto the track's files and pages."""
        out = {"tdm-reservation": str(self.tdm_reservation)}
        if self.tdm_policy is not None and self.tdm_reservation == 1:
            out["tdm-policy"] = self.tdm_policy
        if self.content_usage:
            out["Content-Usage"] = ser({k: Token(v) for k, v in self.content_usage.items()})
        return out

    def cawg_assertion(self) -> dict[str, Any]:
        """The CAWG assertion, as a C2PA manifest carries it."""
        entries = {key: {"use": use} for key, use in sorted(self.cawg.items())}
        return {"label": CAWG_LABEL, "data": {"entries": entries}}


def signals(terms: Terms, denied: Mapping[str, bool]) -> Signals:
    """The signals of a track whose answer for each of ``terms.purposes`` is ``denied[p]``
    (a purpose not given counts as denied: never claim an allowance not checked)."""

    def reserved(purposes: tuple[str, ...]) -> bool:
        return any(denied.get(p, True) for p in purposes)

    return Signals(
        1 if reserved(terms.tdm_purposes) else 0,
        terms.tdm_policy,
        {c: "n" if reserved(ps) else "y" for c, ps in sorted(terms.aipref.items())},
        {e: "notAllowed" if reserved(ps) else "allowed" for e, ps in sorted(terms.cawg.items())},
    )

"""The purpose taxonomy: dotted paths, each with a default answer, loaded from configuration."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import Field

from consentry_domain.answers import Verdict
from consentry_domain.errors import TaxonomyError


@lru_cache(maxsize=4096)
def ancestors(purpose: str) -> tuple[str, ...]:
    """``ai.generation.voice`` -> ``("ai", "ai.generation", "ai.generation.voice")``."""
    parts = purpose.split(".")
    return tuple(".".join(parts[: i + 1]) for i in range(len(parts)))


def covers(general: str, specific: str) -> bool:
    """A decision on ``general`` covers ``specific`` when it is the same path or an ancestor."""
    return specific == general or specific.startswith(general + ".")


@dataclass(frozen=True)
class Taxonomy:
    defaults: dict[str, Verdict]
    unverifiable: dict[str, Verdict] = field(default_factory=dict)
    """Answer when consent cannot be verified, per purpose (and its descendants); deny if unset."""
    descriptions: dict[str, str] = field(default_factory=dict)
    """A purpose's plain-language description, for people (the portal); optional."""
    exclude_ai: dict[str, frozenset[str]] = field(default_factory=dict)
    """Per purpose (and its descendants), the AI disclosures that make a track denied for
    it (``all``, ``partly``); none by default."""

    def __post_init__(self) -> None:
        for purpose in self.defaults:
            for parent in ancestors(purpose)[:-1]:
                if parent not in self.defaults:
                    raise TaxonomyError(
                        f"purpose {purpose!r} is listed but its parent {parent!r} is not"
                    )

    def knows(self, purpose: str) -> bool:
        return purpose in self.defaults

    def default(self, purpose: str) -> Verdict:
        return self.defaults[purpose]

    def excluded_ai(self, purpose: str) -> frozenset[str]:
        """The disclosures denied for ``purpose``: the nearest listed ancestor's."""
        for path in reversed(ancestors(purpose)):
            if path in self.exclude_ai:
                return self.exclude_ai[path]
        return frozenset()

    def when_unverifiable(self, purpose: str) -> Verdict:
        for path in reversed(ancestors(purpose)):
            if path in self.unverifiable:
                return self.unverifiable[path]
        return Verdict.DENY


def parse_taxonomy(text: str) -> Taxonomy:
    try:
        document = tomllib.loads(text)
        table = document["purposes"]
    except (tomllib.TOMLDecodeError, KeyError) as exc:
        raise TaxonomyError(f'need a [purposes] table of \'path = "allow"|"deny"\': {exc}') from exc
    defaults = _verdicts(table, "default")
    unverifiable = _verdicts(document.get("when_unverifiable", {}), "when_unverifiable")
    for path in unverifiable:
        if path not in defaults:
            raise TaxonomyError(f"when_unverifiable names {path!r}, which is not a listed purpose")
    descriptions = {str(k): str(v) for k, v in document.get("descriptions", {}).items()}
    for path in descriptions:
        if path not in defaults:
            raise TaxonomyError(f"descriptions names {path!r}, which is not a listed purpose")
    return Taxonomy(defaults, unverifiable, descriptions, _exclusions(document, defaults))


def _exclusions(
    document: dict[str, object], defaults: dict[str, Verdict]
) -> dict[str, frozenset[str]]:
    table = document.get("exclude_ai", {})
    if not isinstance(table, dict):
        raise TaxonomyError("exclude_ai must be a table of 'path = [\"all\", ...]'")
    out: dict[str, frozenset[str]] = {}
    for path, levels in table.items():
        if path not in defaults:
            raise TaxonomyError(f"exclude_ai names {path!r}, which is not a listed purpose")
        if not isinstance(levels, list) or not set(levels) <= {"all", "partly", "none"}:
            raise TaxonomyError(
                f"exclude_ai {path!r}: a list of disclosures (all, partly, none), not {levels!r}"
            )
        out[str(path)] = frozenset(str(level) for level in levels)
    return out


def _verdicts(table: dict[str, object], what: str) -> dict[str, Verdict]:
    out: dict[str, Verdict] = {}
    for path, value in table.items():
        try:
            out[path] = Verdict(str(value))
        except ValueError:
            raise TaxonomyError(
                f"purpose {path!r}: {what} must be 'allow' or 'deny', not {value!r}"
            ) from None
    return out


PurposesFile = Annotated[
    Path | None,
    Field(description="Purpose taxonomy (TOML); the demo taxonomy when unset."),
]
"""A service's setting naming its taxonomy file (read by ``load_taxonomy``)."""


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read a taxonomy file; without a path, the demo taxonomy shipped with this package."""
    if path is None:
        return parse_taxonomy(
            resources.files("consentry_domain").joinpath("default_purposes.toml").read_text()
        )
    return parse_taxonomy(path.read_text())

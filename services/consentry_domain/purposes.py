"""The purpose taxonomy: dotted paths, each with a default answer, loaded from configuration."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from consentry_domain.answers import Verdict


class TaxonomyError(ValueError):
    """The purpose configuration is unusable; the message names the entry."""


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


def parse_taxonomy(text: str) -> Taxonomy:
    try:
        table = tomllib.loads(text)["purposes"]
    except (tomllib.TOMLDecodeError, KeyError) as exc:
        raise TaxonomyError(f'need a [purposes] table of \'path = "allow"|"deny"\': {exc}') from exc
    defaults: dict[str, Verdict] = {}
    for path, default in table.items():
        try:
            defaults[path] = Verdict(default)
        except ValueError:
            raise TaxonomyError(
                f"purpose {path!r}: default must be 'allow' or 'deny', not {default!r}"
            ) from None
    return Taxonomy(defaults)


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read a taxonomy file; without a path, the demo taxonomy shipped with this package."""
    if path is None:
        return parse_taxonomy(
            resources.files("consentry_domain").joinpath("default_purposes.toml").read_text()
        )
    return parse_taxonomy(path.read_text())

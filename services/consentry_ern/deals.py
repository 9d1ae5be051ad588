"""The label's own decisions a delivery's deals imply -- only when the label imports with
its own authority and asks for them: a release whose deals in force grant none of the use
types that allow a purpose is that label's deny of the purpose on the release.

The mapping from DDEX deal use types to the taxonomy is a TOML table (``[use_types]``,
purpose -> the use types that allow it); the shipped one (``default_deals.toml``) maps
``ai.training`` to ``UseForGenerativeAI``, ``UseForNonGenerativeAI`` and
``UseForDataMining`` (AVS 6's AI training and data-mining use types). A deal granting one
of them leaves the purpose to the label's other decisions and the default: a deal is
never read as the label's allow.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from consentry_ern.catalogue import PartyRule
from consentry_ern.model import Message
from consentry_ern.sections import in_force

UseTypes = dict[str, tuple[str, ...]]
"""Purpose -> the DDEX use types that allow it."""


def load_use_types(path: Path | None = None) -> UseTypes:
    text = (
        path.read_text()
        if path is not None
        else resources.files("consentry_ern").joinpath("default_deals.toml").read_text()
    )
    table = tomllib.loads(text).get("use_types", {})
    return {str(purpose): tuple(str(u) for u in kinds) for purpose, kinds in table.items()}


def label_decisions(message: Message, rule: PartyRule, use_types: UseTypes) -> list[dict[str, Any]]:
    """The decisions, as ``POST /v1/decisions`` takes them, of the release's first label."""
    release = message.release
    label = rule.party_id(message.parties[release.labels[0]], "label")
    granted = {
        kind for deal in release.deals if in_force(deal, message.created) for kind in deal.use_types
    }
    denied = [purpose for purpose, kinds in sorted(use_types.items()) if not granted & set(kinds)]
    on_release = {"choice": "deny", "scope": "release", "upc": release.icpn}
    return [{"party": label, "purpose": purpose, **on_release} for purpose in denied]

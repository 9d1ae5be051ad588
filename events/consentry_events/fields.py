"""The field types every event shares: identifiers, hashes, who acted and by what right,
and the frozen base every event model extends."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

PartyId = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}:[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"),
]
"""``<kind>:<id>``, e.g. ``artist:a-ha`` or ``label:4ad``; the kind is open-ended."""

Isrc = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$")]
"""International Standard Recording Code, 12 characters, no dashes: ``GBAYE6500001``."""

Upc = Annotated[str, StringConstraints(pattern=r"^[0-9]{12,14}$")]
"""Universal Product Code (or EAN) of a release: 12 to 14 digits."""

PurposePath = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){0,15}$", max_length=200),
]
"""Dotted purpose: ``ai``, ``ai.training``, ``ai.generation.voice``."""


PrincipalId = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}:[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"),
]
"""Who acted: a party (``artist:a-ha``), ``admin:<id>`` or ``catalogue:<id>``."""

ChainHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
"""Hex SHA-256 of a record's value bytes."""


class Authority(StrEnum):
    """By what right the actor recorded the event."""

    SELF = "self"
    """The party itself."""
    DELEGATE = "delegate"
    """A party the owner delegated the purpose to."""
    ADMIN = "admin"
    """A platform admin, acting for the party: visible as such to everyone."""
    CATALOGUE = "catalogue"
    """The catalogue feed (track records)."""


class FrozenEvent(BaseModel):
    """Events are frozen and refuse unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

"""Consistency tokens: ``<log>:<partition>:<offset>`` of an acknowledged event.

The write API returns one per write; a check given it answers only from state that has
applied at least that offset (read-your-writes). ``<log>`` is ``consent`` or ``catalogue``.
"""

from __future__ import annotations

from dataclasses import dataclass

from consentry_events.codec import ContractError
from consentry_events.topics import CATALOGUE, CONSENT_CHANGES

_TOPICS = {"consent": CONSENT_CHANGES.name, "catalogue": CATALOGUE.name}
TOKEN_PATTERN = r"^(consent|catalogue):[0-9]{1,9}:[0-9]{1,18}$"  # noqa: S105 -- a shape, no secret
"""What a token looks like (for request schemas)."""


class InvalidToken(ContractError):
    """Not a consistency token as the write API returns them."""


_CODES = {topic: code for code, topic in _TOPICS.items()}


@dataclass(frozen=True, slots=True)
class Token:
    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{_CODES[self.topic]}:{self.partition}:{self.offset}"


def parse_token(text: str) -> Token:
    try:
        code, partition, offset = text.split(":")
        return Token(_TOPICS[code], int(partition), int(offset))
    except (ValueError, KeyError):
        raise InvalidToken(
            f"consistency token {text!r} is not '<consent|catalogue>:<partition>:<offset>' "
            "as returned by the write API"
        ) from None

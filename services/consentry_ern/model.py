"""What a DDEX ERN ``NewReleaseMessage`` says that Consentry reads, as plain data, and the
error that refuses a message: which message, which element, which line, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


class ErnError(ValueError):
    """A message refused: which one, which element, which line, and why."""

    def __init__(self, message: str, element: str, line: int | None, reason: str) -> None:
        where = f"line {line}" if line is not None else "no line"
        super().__init__(f"{message}: {element} ({where}): {reason}")
        self.message_id = message
        self.element = element
        self.line = line
        self.reason = reason

    def __reduce__(self) -> tuple[type[ErnError], tuple[str, str, int | None, str]]:
        """Pickled as it was made (a refusal found in a reading process travels back)."""
        return ErnError, (self.message_id, self.element, self.line, self.reason)


@dataclass(frozen=True, slots=True)
class Party:
    reference: str
    name: str | None
    isni: str | None
    dpid: str | None
    proprietary: tuple[tuple[str, str], ...]
    """(namespace, id) pairs."""


@dataclass(frozen=True, slots=True)
class Credit:
    """A contributor of a recording: a party (``party``) or a special one (``special``,
    e.g. ``GenerativeAI``), its roles, and how much of its contribution was AI."""

    party: str | None
    special: str | None
    roles: tuple[str, ...]
    ai: str | None
    """``all`` / ``partly`` / ``none``; None: not said."""

    @property
    def generative_ai(self) -> bool:
        return self.special == "GenerativeAI" or self.ai in ("all", "partly")


@dataclass(frozen=True, slots=True)
class Controller:
    party: str
    roles: tuple[str, ...]
    share_percent: float | None


@dataclass(frozen=True, slots=True)
class Recording:
    reference: str
    isrc: str
    title: str
    artists: tuple[str, ...]
    credits: tuple[Credit, ...]
    controllers: tuple[Controller, ...]
    contains_ai: str | None
    line: int


@dataclass(frozen=True, slots=True)
class Deal:
    use_types: tuple[str, ...]
    start: datetime | None
    end: datetime | None
    territories: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Release:
    reference: str
    icpn: str
    title: str
    artists: tuple[str, ...]
    labels: tuple[str, ...]
    recordings: tuple[str, ...]
    """Its recordings' references, in order (discs one after the other)."""
    contains_ai: str | None
    deals: tuple[Deal, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Message:
    message_id: str
    version: str
    sender: str
    created: datetime
    parties: dict[str, Party]
    recordings: dict[str, Recording]
    release: Release
    takedown: bool = field(default=False)
    """No deal in force, or none at all: the release is taken down (ERN 4 has no flag)."""

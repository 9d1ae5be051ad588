"""A catalogue site's reservation files kept current: every track's signals read from the
check side, ``/.well-known/tdmrep.json`` and ``robots.txt`` written (``site``'s rules),
then the change feed followed and the files rewritten a moment after each change -- an
opt-out reaches them within the feed's delay and ``settle_s``.

The cursor is taken before the first read (as a snapshot's), so no change made while the
catalogue is read is missed; a changed track is checked again, never trusted from the
event alone. Files are replaced whole (written aside, then renamed): a crawler reads the
old file or the new one, never half of one.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path

from consentry_sdk import ChangeFeed, Checkpoint, ConsentChecker, FeedChange
from consentry_signals.site import Placed, Urls, robots_txt, tdmrep
from consentry_signals.terms import Terms, signals
from consentry_state import StateReader


def _replace(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.new")
    aside.write_text(text)
    os.replace(aside, path)


@dataclass(frozen=True)
class SiteFiles:
    """Where a site's files go, and its URL templates."""

    root: Path
    urls: Urls

    def write(self, tracks: Iterable[Placed], policy: str | None) -> None:
        placed = list(tracks)
        rules = tdmrep(placed, self.urls, policy)
        _replace(self.root / ".well-known" / "tdmrep.json", json.dumps(rules, indent=1) + "\n")
        _replace(self.root / "robots.txt", robots_txt(placed, self.urls))


class CatalogueSignals:
    """Every track's signals, from the check side's state."""

    def __init__(self, reader: StateReader, checker: ConsentChecker, terms: Terms) -> None:
        self._reader = reader
        self._checker = checker
        self._terms = terms

    async def placed(self, isrcs: Sequence[str]) -> dict[str, Placed]:
        """The signals of those of ``isrcs`` the catalogue holds (with their release)."""
        held = {isrc: t.upc for isrc, t in (await self._reader.read(isrcs)).held().items()}
        if not held:
            return {}
        denied: dict[str, dict[str, bool]] = {isrc: {} for isrc in held}
        for purpose in self._terms.purposes:
            answers = await self._checker.check_many(list(held), purpose)
            for isrc, answer in answers.items():
                denied[isrc][purpose] = not answer.allowed
        terms = self._terms
        return {i: Placed(i, upc, signals(terms, denied[i])) for i, upc in held.items()}

    async def disclosures(self, isrcs: Sequence[str]) -> dict[str, str]:
        """The known AI disclosure of each of ``isrcs``."""
        return (await self._reader.read(isrcs)).disclosures(isrcs)

    async def every(self) -> dict[str, Placed]:
        found: dict[str, Placed] = {}
        async for batch in self._reader.every_isrc():
            found |= await self.placed(batch)
        return found


async def keep_current(
    site: SiteFiles,
    catalogue: CatalogueSignals,
    feed: ChangeFeed,
    terms: Terms,
    *,
    once: bool,
    stop: asyncio.Event | None = None,
) -> None:
    """Write the site's files from the whole catalogue, then (unless ``once``) keep them
    current from the change feed, rewriting after each checkpoint that brought changes,
    until ``stop`` is set."""
    cursor = await feed.end()
    tracks = await catalogue.every()
    site.write(tracks.values(), terms.tdm_policy)
    if once:
        return
    changed: set[str] = set()
    async with aclosing(feed.follow(terms.purposes, cursor)) as items:
        async for item in items:
            if stop is not None and stop.is_set():
                return
            if isinstance(item, FeedChange):
                changed.add(item.event.isrc)
            elif isinstance(item, Checkpoint) and changed:
                tracks |= await catalogue.placed(sorted(changed))
                site.write(tracks.values(), terms.tdm_policy)
                changed.clear()

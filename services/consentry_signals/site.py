"""A catalogue site's reservations, generated -- pure: the tracks with their release and
signals in, ``/.well-known/tdmrep.json`` rules and robots.txt ``Content-Usage`` lines out.

URLs come from two templates (``{upc}``, ``{isrc}``), e.g. ``/music/{upc}/`` for a release
and ``/music/{upc}/{isrc}`` for its tracks. The output is the smallest that reads right:

* per release, the profile most of its tracks share goes on one release-level line, and
  only the tracks that differ get lines of their own -- which needs every track URL of the
  release to start with the release URL; otherwise each track has its own line;
* **TDMRep** (the first matching rule wins): a track's exception comes before its release's
  rule; only reservations are written (a path without a rule is not reserved), and a
  track's ``0`` only where it must override its release's ``1``;
* **robots.txt** (the longest matching ``Content-Usage`` path wins): a line per release and
  per exception, in any order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from http_sf import Token, ser

from consentry_signals.terms import Signals

_SPECIAL = {"*": "%2A", "$": "%24", " ": "%20", "\t": "%09", "#": "%23"}


@dataclass(frozen=True)
class Placed:
    isrc: str
    upc: str
    signals: Signals


@dataclass(frozen=True)
class Urls:
    track: str = "/music/{upc}/{isrc}"
    release: str = "/music/{upc}/"

    def of_track(self, placed: Placed) -> str:
        return _path(self.track.format(upc=placed.upc, isrc=placed.isrc))

    def of_release(self, upc: str) -> str:
        return _path(self.release.format(upc=upc, isrc=""))


def _path(url: str) -> str:
    """A URL as a pattern that matches it literally (TDMRep and robots.txt special
    characters %-encoded)."""
    return "".join(_SPECIAL.get(c, c) for c in url)


Profile = tuple[int, tuple[tuple[str, str], ...]]


def _profile(s: Signals) -> Profile:
    return s.tdm_reservation, tuple(sorted(s.content_usage.items()))


def _by_release(tracks: Iterable[Placed]) -> dict[str, list[Placed]]:
    releases: dict[str, list[Placed]] = {}
    for placed in tracks:
        releases.setdefault(placed.upc, []).append(placed)
    return {upc: sorted(found, key=lambda p: p.isrc) for upc, found in sorted(releases.items())}


def _split(urls: Urls, upc: str, tracks: list[Placed]) -> tuple[Profile | None, list[Placed]]:
    """The release's own profile (None: no release line) and the tracks needing lines."""
    release = urls.of_release(upc)
    if not all(urls.of_track(p).startswith(release) for p in tracks):
        return None, tracks
    counts = Counter(_profile(p.signals) for p in tracks)

    def rank(prof: Profile) -> tuple[int, int, int]:
        """The most common profile; on a tie, the most restrictive."""
        return counts[prof], prof[0], sum(v == "n" for _, v in prof[1])

    majority = max(counts, key=rank)
    return majority, [p for p in tracks if _profile(p.signals) != majority]


def tdmrep(tracks: Iterable[Placed], urls: Urls, policy: str | None = None) -> list[dict[str, Any]]:
    """The rules of ``/.well-known/tdmrep.json``, in the order the first match reads."""
    rules: list[dict[str, Any]] = []

    def rule(location: str, reserved: int) -> None:
        found: dict[str, Any] = {"location": location, "tdm-reservation": reserved}
        if reserved == 1 and policy is not None:
            found["tdm-policy"] = policy
        rules.append(found)

    for upc, placed in _by_release(tracks).items():
        own, rest = _split(urls, upc, placed)
        release_reserved = own is not None and own[0] == 1
        for p in rest:
            if p.signals.tdm_reservation == 1 or release_reserved:
                rule(urls.of_track(p), p.signals.tdm_reservation)
        if release_reserved:
            rule(urls.of_release(upc), 1)
    return rules


def robots_lines(tracks: Iterable[Placed], urls: Urls) -> list[str]:
    """The ``Content-Usage`` lines of the site's robots.txt group."""
    lines: list[str] = []

    def line(path: str, usage: Mapping[str, str]) -> None:
        if usage:
            lines.append(f"Content-Usage: {path} " + ser({k: Token(v) for k, v in usage.items()}))

    for upc, placed in _by_release(tracks).items():
        own, rest = _split(urls, upc, placed)
        if own is not None:
            line(urls.of_release(upc), dict(own[1]))
        for p in rest:
            line(urls.of_track(p), p.signals.content_usage)
    return lines


def robots_txt(tracks: Iterable[Placed], urls: Urls) -> str:
    """A robots.txt whose one group allows crawling and says the AI preferences (a site with
    its own robots.txt puts these ``Content-Usage`` lines in its groups)."""
    body = ["User-Agent: *", "Allow: /", *robots_lines(tracks, urls)]
    return "\n".join(body) + "\n"

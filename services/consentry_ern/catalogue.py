"""An ERN delivery as Consentry's catalogue: one track record per sound recording of the
main release, with its rights holders, AI disclosure and master shares.

**Who holds rights in a track** (the documented rule, every part configurable):

* its display artists (the recording's, else the release's) -- ``artist:``;
* the release's labels (``ReleaseLabelReference``) -- ``label:``;
* the recording's rights controllers (``ResourceRightsController``) -- ``label:``, unless
  the same party is one of its artists (a self-released artist stays ``artist:``).

**A party's id**: an entry of the ``[parties]`` table of a TOML file names it outright,
by ``isni:<ISNI>``, ``dpid:<DPID>``, ``proprietary:<namespace>:<id>`` or ``name:<full
name>`` (the first that matches, in that order); otherwise it is made from the first
identifier the delivery gives -- ``<kind>:isni-<ISNI>``, ``<kind>:dpid-<DPID>``,
``<kind>:<namespace>-<id>`` -- or from its name (``artist:example-artist``).

**Disclosure**: the recording's ``ContainsAI``, else the release's; its AI credits are
the contributors marked ``SpecialContributor`` = ``GenerativeAI`` or with an
``AiContribution`` of ``All`` or ``Partly``, one per role. **Shares**: the rights
controllers' ``RightSharePercentage`` as master shares (basis points); when they are not
all given, or do not sum to 100 %, none are recorded (the master side is then split
equally). A release with no deal in force is taken down: its tracks are retired.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from consentry_ern.model import ErnError, Message, Party, Recording

MAX_TRACKS = 10_000
"""Tracks in one message (the bulk import's batch)."""
_SLUG = re.compile(r"[^a-z0-9._-]+")


@dataclass(frozen=True)
class PartyRule:
    """How delivered parties become Consentry's party ids."""

    named: Mapping[str, str] = field(default_factory=dict)
    """``isni:...`` / ``dpid:...`` / ``proprietary:<ns>:<id>`` / ``name:...`` -> party id."""

    @classmethod
    def load(cls, path: Path | None) -> PartyRule:
        """The rule of a TOML file's ``[parties]`` table (none: the default rule)."""
        if path is None:
            return cls()
        table = tomllib.loads(path.read_text()).get("parties", {})
        return cls({str(k): str(v) for k, v in table.items()})

    def party_id(self, party: Party, kind: str) -> str:
        keys = [
            f"isni:{party.isni}" if party.isni else "",
            f"dpid:{party.dpid}" if party.dpid else "",
            *(f"proprietary:{ns}:{pid}" for ns, pid in party.proprietary),
            f"name:{party.name}" if party.name else "",
        ]
        for key in keys:
            if key and key in self.named:
                return self.named[key]
        if party.isni:
            made = f"isni-{party.isni}"
        elif party.dpid:
            made = f"dpid-{party.dpid}"
        elif party.proprietary:
            made = "-".join(party.proprietary[0])
        else:
            made = party.name or party.reference
        return f"{kind}:{_slug(made)}"


def _slug(text: str) -> str:
    slug = _SLUG.sub("-", text.lower()).strip("-._")
    return (slug or "unnamed")[:128]


def track_records(message: Message, rule: PartyRule) -> list[dict[str, Any]]:
    """The catalogue records of the message's main release, as ``POST /v1/tracks`` takes
    them (validated by the caller, all or none)."""
    release = message.release
    if len(release.recordings) > MAX_TRACKS:
        raise ErnError(
            message.message_id,
            "ReleaseList/Release/ResourceGroup",
            release.line,
            f"{len(release.recordings):,} recordings: at most {MAX_TRACKS:,} in one message",
        )
    labels = [rule.party_id(message.parties[p], "label") for p in release.labels]
    records = []
    isrcs: dict[str, str] = {}
    for reference in dict.fromkeys(release.recordings):  # a recording grouped twice: once
        recording = message.recordings[reference]
        if (other := isrcs.setdefault(recording.isrc, reference)) != reference:
            raise ErnError(
                message.message_id,
                "ResourceList/SoundRecording",
                recording.line,
                f"{reference} and {other} are both {recording.isrc}: an ISRC is one recording",
            )
        artist_refs = recording.artists or release.artists
        artists = {ref: rule.party_id(message.parties[ref], "artist") for ref in artist_refs}
        controllers = {
            c.party: artists.get(c.party) or rule.party_id(message.parties[c.party], "label")
            for c in recording.controllers
        }
        holders = list(dict.fromkeys([*artists.values(), *labels, *controllers.values()]))
        records.append(
            {
                "isrc": recording.isrc,
                "upc": release.icpn,
                "parties": holders,
                "status": "retired" if message.takedown else "active",
                "title": recording.title[:300],
                "release_title": release.title[:300],
                "contains_ai": recording.contains_ai or release.contains_ai,
                "ai_credits": list(_ai_credits(recording)),
                "shares": _master_shares(recording, controllers),
                "source": f"ern:{message.message_id}"[:200],
            }
        )
    return records


def _ai_credits(recording: Recording) -> Iterable[dict[str, str]]:
    seen: set[tuple[str, str]] = set()
    for credit in recording.credits:
        if not credit.generative_ai:
            continue
        contribution = credit.ai or "all"
        for role in credit.roles or ("Contributor",):
            if (role, contribution) not in seen:
                seen.add((role, contribution))
                yield {"role": role[:100], "contribution": contribution}


def _master_shares(recording: Recording, ids: Mapping[str, str]) -> list[dict[str, Any]]:
    given = [(ids[c.party], c.share_percent) for c in recording.controllers]
    if not given or any(percent is None for _, percent in given):
        return []
    points: dict[str, int] = {}
    for party, percent in given:
        if percent is None:
            continue
        points[party] = points.get(party, 0) + round(percent * 100)
    if sum(points.values()) != 10_000:
        return []
    return [{"party": p, "side": "master", "basis_points": bp} for p, bp in points.items()]

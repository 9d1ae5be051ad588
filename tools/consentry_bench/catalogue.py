"""A synthetic catalogue shaped like a platform's, generated lazily so 10 million tracks
never sit in memory: releases of 10-15 tracks; 2-5 rights holders a track (the release's
artist, its label, sometimes a featured artist, up to two publishers); about one artist per
ten tracks; three major labels holding half the catalogue (25, 15 and 10 %) and small labels
the rest; decisions mostly a handful per party, some of them label-wide.

The same seed gives the same catalogue, so every size and every run measures the same shape.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from consentry_events import Choice, ConsentChanged, Scope, TrackChanged

NOW = datetime.now(UTC)
SOLO_LABEL = "label:bench-solo"
MAJORS = (("label:major-0", 0.25), ("label:major-1", 0.15), ("label:major-2", 0.10))
FAN_OUT_LABEL = "label:major-2"
"""Nobody decides anything for this label's tracks at ``FAN_OUT_PURPOSE`` except their
artists track by track, so its label-wide opt-out there changes a counted number of them."""
FAN_OUT_PURPOSE = "ai.dj"


def isrc(i: int) -> str:
    """The ``i``-th regular track's ISRC (12 characters, 100 to a registrant-year block)."""
    return f"ZZBEN{i:07d}"


def _decision(
    party: str,
    purpose: str,
    choice: Choice,
    scope: Scope,
    *,
    upc: str | None = None,
    isrc: str | None = None,
    expires_at: datetime | None = None,
) -> ConsentChanged:
    return ConsentChanged(
        decision_id=uuid.uuid4(),
        party=party,
        purpose=purpose,
        choice=choice,
        scope=scope,
        upc=upc,
        isrc=isrc,
        expires_at=expires_at,
        recorded_at=NOW,
    )


@dataclass
class Catalogue:
    """``regular`` shaped tracks, then ``solo`` one-artist tracks nobody decided on (the
    propagation targets). Iterate ``tracks()`` before ``decisions()``: the track pass
    records what the decisions need (releases, and the fan-out label's tracks)."""

    regular: int
    solo: int = 200
    seed: int = 7
    releases: int = field(default=0, init=False)
    fan_out_sample: list[str] = field(default_factory=list, init=False)
    """Up to 2,000 of the fan-out label's tracks still allowed at ``FAN_OUT_PURPOSE``."""
    fan_out_tracks: int = field(default=0, init=False)
    """The fan-out label's tracks ..."""
    fan_out_denied: int = field(default=0, init=False)
    """... and those of them already denied at ``FAN_OUT_PURPOSE`` (by a track decision)."""
    _releases_of: defaultdict[str, list[str]] = field(
        default_factory=lambda: defaultdict(list), init=False
    )
    _later: list[tuple[str, str, Choice, Scope, str]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        n = self.regular
        self.artists = max(1, n // 10)
        self.publishers = max(1, n // 100)
        self.indies = max(1, n // 2000)

    @property
    def targets(self) -> list[tuple[str, str]]:
        """(isrc, artist) pairs: each artist is on that one track only."""
        return [(f"ZZBES{j:07d}", f"artist:solo{j}") for j in range(self.solo)]

    @property
    def expected_fan_out_changes(self) -> int:
        return self.fan_out_tracks - self.fan_out_denied

    def _label(self, rng: random.Random) -> str:
        draw = rng.random()
        for label, share in MAJORS:
            if draw < share:
                return label
            draw -= share
        return f"label:indie-{rng.randrange(self.indies)}"

    def tracks(self) -> Iterator[TrackChanged]:
        rng = random.Random(self.seed)
        i = release = 0
        while i < self.regular:
            upc = f"{release:013d}"
            label = self._label(rng)
            main = f"artist:a{rng.randrange(self.artists)}"
            if label.startswith("label:indie") and len(self._releases_of[label]) < 5:
                self._releases_of[label].append(upc)
            if rng.random() < 0.02:
                self._later.append((main, "ai.training", Choice.DENY, Scope.RELEASE, upc))
            for _ in range(min(rng.randint(10, 15), self.regular - i)):
                parties = [main, label]
                if rng.random() < 0.3:
                    parties.append(f"artist:a{rng.randrange(self.artists)}")
                for _ in range(rng.randint(0, 2)):
                    parties.append(f"publisher:p{rng.randrange(self.publishers)}")
                denied = rng.random() < 0.1 and self._track_decision(rng, main, label, isrc(i))
                if label == FAN_OUT_LABEL:
                    self.fan_out_tracks += 1
                    if not denied and len(self.fan_out_sample) < 2000:
                        self.fan_out_sample.append(isrc(i))
                yield TrackChanged(
                    isrc=isrc(i), upc=upc, parties=tuple(dict.fromkeys(parties)), recorded_at=NOW
                )
                i += 1
            release += 1
        self.releases = release
        for isrc_, artist in self.targets:
            yield TrackChanged(
                isrc=isrc_, upc=f"9{isrc_[5:]:0>12}", parties=(artist, SOLO_LABEL), recorded_at=NOW
            )

    def _track_decision(self, rng: random.Random, artist: str, label: str, isrc_: str) -> bool:
        """The release's artist decides one purpose for one of its tracks; true when that
        denies the fan-out purpose on a fan-out label's track."""
        purpose = rng.choice(["ai.dj", "ai.generation.stems", "ai.training"])
        choice = rng.choice([Choice.DENY, Choice.DENY, Choice.ALLOW])
        self._later.append((artist, purpose, choice, Scope.TRACK, isrc_))
        denied = purpose == FAN_OUT_PURPOSE and choice is Choice.DENY and label == FAN_OUT_LABEL
        self.fan_out_denied += denied
        return denied

    def decisions(self) -> Iterator[ConsentChanged]:
        """Party-wide ones first, then the release and track ones the track pass chose."""
        rng = random.Random(self.seed + 1)
        for a in rng.sample(range(self.artists), self.artists // 20):
            yield _decision(f"artist:a{a}", "ai.training", Choice.DENY, Scope.PARTY)
        for a in rng.sample(range(self.artists), self.artists // 50):
            yield _decision(f"artist:a{a}", "ai.generation.voice", Choice.ALLOW, Scope.PARTY)
        yield _decision(MAJORS[0][0], "ai.generation", Choice.DENY, Scope.PARTY)
        for n in rng.sample(range(self.indies), self.indies // 5):
            yield _decision(f"label:indie-{n}", "ai.generation", Choice.DENY, Scope.PARTY)
        for n in rng.sample(range(self.indies), self.indies // 10):
            label = f"label:indie-{n}"
            yield _decision(label, "ai", Choice.DENY, Scope.PARTY)
            for upc in self._releases_of.get(label, []):
                yield _decision(label, "ai.training", Choice.ALLOW, Scope.RELEASE, upc=upc)
        for p in rng.sample(range(self.publishers), self.publishers // 10):
            yield _decision(f"publisher:p{p}", "ai.training", Choice.DENY, Scope.PARTY)
        for party, purpose, choice, scope, work in self._later:
            if scope is Scope.RELEASE:
                yield _decision(party, purpose, choice, scope, upc=work)
            else:
                expires = NOW + timedelta(days=365) if rng.random() < 0.1 else None
                yield _decision(party, purpose, choice, scope, isrc=work, expires_at=expires)

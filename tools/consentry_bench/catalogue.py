"""A synthetic but shaped catalogue: releases of ~10 tracks, several rights holders per
track, and a mix of decisions at every scope, as labels, artists and publishers make them."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from consentry_events import Choice, ConsentChanged, Scope, TrackChanged

NOW = datetime.now(UTC)
SOLO_LABEL = "label:bench-solo"


@dataclass
class Catalogue:
    tracks: list[TrackChanged] = field(default_factory=list)
    decisions: list[ConsentChanged] = field(default_factory=list)
    targets: list[tuple[str, str]] = field(default_factory=list)
    """(isrc, artist) pairs nobody decided on: each artist is on that one track only."""

    @property
    def isrcs(self) -> list[str]:
        return [t.isrc for t in self.tracks]


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


def build(n_tracks: int, n_targets: int, seed: int = 7) -> Catalogue:
    rng = random.Random(seed)
    labels = [f"label:l{i}" for i in range(max(1, n_tracks // 500))]
    publishers = [f"publisher:p{i}" for i in range(max(1, n_tracks // 50))]
    artists = [f"artist:a{i}" for i in range(max(1, n_tracks // 5))]
    out = Catalogue()
    release_of: dict[str, str] = {}
    for i in range(n_tracks - n_targets):
        upc = f"{i // 10:013d}"
        label = labels[(i // 10) % len(labels)]
        main = artists[(i // 10) % len(artists)]
        parties = [main, label]
        if rng.random() < 0.3:
            parties.append(rng.choice(artists))
        parties += rng.sample(publishers, rng.randint(0, 2))
        isrc = f"ZZBEN{i:07d}"
        release_of[isrc] = upc
        out.tracks.append(
            TrackChanged(isrc=isrc, upc=upc, parties=tuple(dict.fromkeys(parties)), recorded_at=NOW)
        )
    for j in range(n_targets):
        isrc, artist = f"ZZBES{j:07d}", f"artist:solo{j}"
        out.tracks.append(
            TrackChanged(isrc=isrc, upc=f"9{j:012d}", parties=(artist, SOLO_LABEL), recorded_at=NOW)
        )
        out.targets.append((isrc, artist))

    decide = out.decisions.append
    for artist in rng.sample(artists, len(artists) // 20):
        decide(_decision(artist, "ai.training", Choice.DENY, Scope.PARTY))
    for artist in rng.sample(artists, len(artists) // 50):
        decide(_decision(artist, "ai.generation.voice", Choice.ALLOW, Scope.PARTY))
    for label in rng.sample(labels, len(labels) // 5):
        decide(_decision(label, "ai.generation", Choice.DENY, Scope.PARTY))
    for label in rng.sample(labels, len(labels) // 10):
        decide(_decision(label, "ai", Choice.DENY, Scope.PARTY))
        for upc in rng.sample(sorted(set(release_of.values())), 5):
            decide(_decision(label, "ai.training", Choice.ALLOW, Scope.RELEASE, upc=upc))
    for publisher in rng.sample(publishers, len(publishers) // 10):
        decide(_decision(publisher, "ai.training", Choice.DENY, Scope.PARTY))
    regular = out.tracks[: n_tracks - n_targets]
    for track in rng.sample(regular, len(regular) // 10):
        choice = rng.choice([Choice.DENY, Choice.DENY, Choice.ALLOW])
        expires = NOW + timedelta(days=365) if rng.random() < 0.1 else None
        decide(
            _decision(
                track.parties[0],
                rng.choice(["ai.dj", "ai.generation.stems", "ai.training"]),
                choice,
                Scope.TRACK,
                isrc=track.isrc,
                expires_at=expires,
            )
        )
    return out

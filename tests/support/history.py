"""A shaped, random history of catalogue and consent events for the fault tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from consentry_domain import load_taxonomy
from consentry_events import Choice, ConsentChanged, Scope, TrackChanged
from tests.support.events import decision_event, track_event

TAXONOMY = load_taxonomy()
PURPOSES = sorted(TAXONOMY.defaults)


def history(n_tracks: int, n_decisions: int, seed: int) -> list[ConsentChanged | TrackChanged]:
    rng = random.Random(seed)
    parties = [f"artist:crash{i}" for i in range(40)] + [f"label:crash{i}" for i in range(5)]
    tracks = []
    for i in range(n_tracks):
        chosen = [*rng.sample(parties[:40], rng.randint(1, 2)), parties[40 + i % 5]]
        tracks.append(track_event(f"ZZCRS{i:07d}", f"{i // 10:012d}", chosen))
    events: list[ConsentChanged | TrackChanged] = list(tracks)
    soon = datetime.now(UTC) + timedelta(days=1)
    for _ in range(n_decisions):
        track = rng.choice(tracks)
        party = rng.choice(track.parties)
        scope = rng.choice(list(Scope))
        choice = rng.choice([Choice.ALLOW, Choice.DENY, Choice.DENY, Choice.WITHDRAWN])
        window = choice is not Choice.WITHDRAWN and rng.random() < 0.1
        events.append(
            decision_event(
                party,
                rng.choice(PURPOSES),
                choice,
                scope,
                upc=track.upc,
                isrc=track.isrc,
                end=int(soon.timestamp() * 1000) if window else None,
            )
        )
    rng.shuffle(events)  # interleaves parties; each party's own order is its log order
    return events

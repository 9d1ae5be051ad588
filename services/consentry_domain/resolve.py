"""Resolution of (track, purpose) at a time, exactly as DESIGN section 2.

1. Per party of the track: among its decisions in force whose scope covers the track
   and whose purpose covers the requested one, the most specific scope wins (track,
   release, party-wide), then the most specific purpose, then the latest in the
   party's order.
2. Any party's deny makes the answer deny.
3. A party with no matching decision contributes the purpose's default.
4. Unknown or retired track, unknown purpose: deny, with that reason.
5. A purpose the taxonomy keeps from recordings disclosed as AI-made (``exclude_ai``,
   e.g. an AI DJ that plays no entirely AI-generated track): deny such a track, with
   that reason. By default no purpose excludes any: the disclosure is only carried.

Every answer carries the track's AI disclosure.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

from consentry_domain.answers import Answer, Basis, Reason, Verdict, refusal
from consentry_domain.purposes import Taxonomy, covers
from consentry_domain.slots import Slot, SlotKey
from consentry_domain.state_types import Track
from consentry_events import Choice, Scope, TrackStatus

_SCOPE_RANK = {Scope.PARTY: 0, Scope.RELEASE: 1, Scope.TRACK: 2}

Candidates = Mapping[str, Iterable[tuple[SlotKey, Slot]]]
"""Per party, slots that may cover the track; ones that do not are ignored."""


def scope_covers(key: SlotKey, track: Track) -> bool:
    if key.scope is Scope.PARTY:
        return True
    if key.scope is Scope.RELEASE:
        return key.work == track.upc
    return key.work == track.isrc


def party_reason(
    party: str,
    track: Track,
    purpose: str,
    slots: Iterable[tuple[SlotKey, Slot]],
    taxonomy: Taxonomy,
    at_ms: int,
) -> Reason:
    best: tuple[tuple[int, int, int], Reason] | None = None
    for key, slot in slots:
        if key.party != party or not scope_covers(key, track) or not covers(key.purpose, purpose):
            continue
        entry = slot.in_force(at_ms)
        if entry is None:
            continue
        rank = (_SCOPE_RANK[key.scope], key.purpose.count("."), entry.offset)
        if best is None or rank > best[0]:
            verdict = Verdict.DENY if entry.choice is Choice.DENY else Verdict.ALLOW
            reason = Reason(
                Basis.DECISION,
                verdict,
                party=party,
                decision_id=entry.decision_id,
                scope=key.scope,
                work=key.work or None,
                purpose=key.purpose,
            )
            best = (rank, reason)
    if best is not None:
        return best[1]
    return default_reason(party, purpose, taxonomy.default(purpose))


@functools.lru_cache(maxsize=65_536)
def default_reason(party: str, purpose: str, verdict: Verdict) -> Reason:
    """A party silent on the purpose contributes its default (reasons are frozen: one
    object per party and purpose serves every answer)."""
    return Reason(Basis.DEFAULT, verdict, party=party, purpose=purpose)


def resolve(
    isrc: str,
    purpose: str,
    track: Track | None,
    candidates: Candidates,
    taxonomy: Taxonomy,
    at_ms: int,
) -> Answer:
    if not taxonomy.knows(purpose):
        return refusal(isrc, purpose, Basis.UNKNOWN_PURPOSE)
    if track is None:
        return refusal(isrc, purpose, Basis.UNKNOWN_TRACK)
    if track.status is TrackStatus.RETIRED:
        return refusal(isrc, purpose, Basis.RETIRED_TRACK)
    reasons = [
        party_reason(party, track, purpose, slots, taxonomy, at_ms)
        if (slots := candidates.get(party))
        else default_reason(party, purpose, taxonomy.default(purpose))
        for party in track.parties
    ]
    disclosure = track.disclosure
    if disclosure is not None and disclosure in taxonomy.excluded_ai(purpose):
        reasons.append(Reason(Basis.AI_DISCLOSURE, Verdict.DENY, purpose=purpose))
    denies = tuple(r for r in reasons if r.verdict is Verdict.DENY)
    if denies:
        return Answer(isrc, purpose, Verdict.DENY, denies, disclosure)
    return Answer(isrc, purpose, Verdict.ALLOW, tuple(reasons), disclosure)

"""Which answer changes downstream AI systems must be told of: the enforcement diff.

What a downstream system believes of (track, purpose) is the answer last published to
it -- or, for a pair never published, the purpose's default: it learns of new tracks
from the catalogue and assumes the default for them. After a record is applied, the
enforcer resolves every pair it may have affected and compares:

* the answer differs from what downstream believes: publish it (with that belief as the
  previous answer) -- a decision changed it, or a new track's first answer is not the
  default (a label that had opted out of ``ai.training`` registers a track, say);
* otherwise nothing. A pair whose track is unknown is skipped.

Only answers that differ from the default need keeping: ``to_record`` says which to
store and which to forget (those back at the default). Comparing with the default
rather than staying silent on a first answer also makes the order in which the enforcer
meets a track and a decision irrelevant.

Pure functions only; ``consentry_enforcer.enforce`` is the shell that reads and writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from consentry_domain.answers import Answer, Basis, Verdict
from consentry_domain.purposes import Taxonomy, covers


@dataclass(frozen=True, slots=True)
class Change:
    answer: Answer
    previous: Verdict
    """What downstream believed: the answer last published, else the default."""


@dataclass(frozen=True, slots=True)
class EnforcementDiff:
    changes: tuple[Change, ...]
    """Publish these, then record them."""
    assumed: Verdict
    """The purpose's default: what downstream believes of a pair with nothing recorded."""

    def to_record(self) -> dict[str, Verdict | None]:
        """ISRC -> the answer to keep as last published, or None to forget it (it is the
        default again), once ``changes`` are out."""
        return {
            c.answer.isrc: None if c.answer.verdict is self.assumed else c.answer.verdict
            for c in self.changes
        }


def enforcement_diff(
    answers: Iterable[Answer], published: Mapping[str, Verdict | None], assumed: Verdict
) -> EnforcementDiff:
    """Compare fresh answers (one purpose) with what downstream believes, by ISRC:
    ``published`` holds the answers last published (None: nothing, so ``assumed``, the
    purpose's default)."""
    changes: list[Change] = []
    for answer in answers:
        if not answer.reasons or answer.reasons[0].basis is Basis.UNKNOWN_TRACK:
            continue
        believed = published.get(answer.isrc) or assumed
        if answer.verdict is not believed:
            changes.append(Change(answer, believed))
    return EnforcementDiff(tuple(changes), assumed)


def purposes_affected(taxonomy: Taxonomy, decided: str) -> list[str]:
    """The purposes a decision on ``decided`` can change: it and every purpose under it."""
    return [p for p in sorted(taxonomy.defaults) if covers(decided, p)]

"""Which answer changes downstream AI systems must be told of: the enforcement diff.

Downstream systems keep the last answer published for each (track, purpose). After a
record is applied, the enforcer resolves every pair it may have affected and compares
each answer with the one last published:

* **changed** -- a published answer exists and the new one differs: publish it;
* **first** -- nothing was published for the pair yet (a newly registered track, or one
  the enforcer meets for the first time). A downstream system learns of new tracks from
  the catalogue and assumes the purpose's default for them, so the answer is published
  (with no previous answer) only when it differs from that default -- a label that had
  opted out of ``ai.training`` registers a new track, say -- and is otherwise recorded
  silently as the baseline. Comparing with the default rather than staying silent also
  makes the order in which the enforcer meets a track and a decision irrelevant;
* **unchanged** -- nothing to do. A pair whose track is unknown has no baseline either.

Pure functions only; ``consentry_materialiser.enforce`` is the shell that reads and
writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from consentry_domain.answers import Answer, Basis, Verdict
from consentry_domain.purposes import Taxonomy, covers


@dataclass(frozen=True, slots=True)
class Change:
    answer: Answer
    previous: Verdict | None
    """None for a first answer that differs from the purpose's default."""


@dataclass(frozen=True, slots=True)
class EnforcementDiff:
    changes: tuple[Change, ...]
    """Publish these, then record them as published."""
    baseline: tuple[Answer, ...]
    """Record these as published without publishing."""

    def to_record(self) -> dict[str, Verdict]:
        """ISRC -> the answer to store as last published, once ``changes`` are out."""
        out = {answer.isrc: answer.verdict for answer in self.baseline}
        out.update({change.answer.isrc: change.answer.verdict for change in self.changes})
        return out


def enforcement_diff(
    answers: Iterable[Answer], published: Mapping[str, Verdict | None], assumed: Verdict
) -> EnforcementDiff:
    """Compare fresh answers (one purpose) with those last published, by ISRC;
    ``assumed`` is what downstream takes a new track's answer to be (the default)."""
    changes: list[Change] = []
    baseline: list[Answer] = []
    for answer in answers:
        previous = published.get(answer.isrc)
        if previous is None:
            if not answer.reasons or answer.reasons[0].basis is Basis.UNKNOWN_TRACK:
                continue
            if answer.verdict is assumed:
                baseline.append(answer)
            else:
                changes.append(Change(answer, None))
        elif answer.verdict is not previous:
            changes.append(Change(answer, previous))
    return EnforcementDiff(tuple(changes), tuple(baseline))


def purposes_affected(taxonomy: Taxonomy, decided: str) -> list[str]:
    """The purposes a decision on ``decided`` can change: it and every purpose under it."""
    return [p for p in sorted(taxonomy.defaults) if covers(decided, p)]

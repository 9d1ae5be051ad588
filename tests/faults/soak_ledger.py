"""The soak's ledger -- every write and check, with its outcome -- and the rule that
finds a wrong allow in it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from consentry_events import AnyEvent, Choice, ConsentChanged
from consentry_events.logged import LoggedEvent


@dataclass
class Write:
    party: str
    choice: str
    key: str
    outcome: str = "pending"
    """ok (202), failed (refused, nothing written) or unknown (may have been written)."""
    partition: int = -1
    offset: int = -1
    decision_id: str = ""
    attempts: int = 0


@dataclass
class Check:
    isrc: str
    party: str
    token_offset: int
    answer: str
    basis: str
    ended_ms: int


@dataclass
class Ledger:
    """Everything the soak did and saw, for the checker."""

    writes: list[Write] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    unanswered_checks: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    acknowledged: dict[str, Write] = field(default_factory=dict)
    """The latest acknowledged write per party (its token goes with the party's checks)."""


def wrong_allows(rec: Ledger, log: list[LoggedEvent[AnyEvent]]) -> list[Check]:
    """An allow is wrong when the party's log up to the token ends in deny and no allow
    after the token had been written by the time the check answered."""
    by_party: dict[str, list[LoggedEvent[ConsentChanged]]] = {}
    for entry in log:
        event = entry.event
        if isinstance(event, ConsentChanged) and event.purpose == "ai.training":
            at = entry.timestamp_ms
            by_party.setdefault(event.party, []).append(
                LoggedEvent(entry.topic, entry.partition, entry.offset, event, "", at)
            )
    wrong = []
    for check in rec.checks:
        if check.answer != "allow" or check.token_offset < 0:
            continue
        entries = by_party.get(check.party, [])
        upto = [e for e in entries if e.offset <= check.token_offset]
        later_allow = any(
            e.offset > check.token_offset
            and e.event.choice is Choice.ALLOW
            and e.timestamp_ms <= check.ended_ms
            for e in entries
        )
        if upto and upto[-1].event.choice is Choice.DENY and not later_allow:
            wrong.append(check)
    return wrong

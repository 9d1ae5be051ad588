"""Topic names and the settings each topic needs; creation is the operator's (or launcher's) job.

Ordering rule: consent changes are keyed by party, so all of one party's decisions land
on one partition in the order the write API produced them, and the partition offset is
that party's order. Never change the partition count of ``CONSENT_CHANGES`` in place:
it would move parties between partitions and break that order (migrate to a new topic).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)


CONSENT_CHANGES = TopicSpec(
    "consentry.consent-changes.v1",
    partitions=6,
    # The audit history: kept forever, never compacted.
    configs={"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"},
)
CATALOGUE = TopicSpec(
    "consentry.catalogue.v1",
    partitions=6,
    configs={"cleanup.policy": "compact"},
)
FEED_RETENTION_MS = 7 * 24 * 3600 * 1000
"""How long the change feed keeps an enforcement event: a downstream system that stops
for longer resumes from a snapshot (its cursor is refused, never silently skipped)."""
ENFORCEMENT = TopicSpec(
    "consentry.enforcement.v1",
    partitions=6,
    # The change feed downstream systems follow, keyed by "<isrc>|<purpose>": every
    # change in order per pair, kept for the retention (not compacted: a consumer that
    # resumes sees each change, not only the last).
    configs={"cleanup.policy": "delete", "retention.ms": str(FEED_RETENTION_MS)},
)
ENFORCEMENT_STATE = TopicSpec(
    "consentry.enforcement-state.v1",
    partitions=6,
    # What downstream was last told, per "<isrc>|<purpose>": the answer when it is not
    # the purpose's default, a tombstone when it is again. Compaction keeps the last of
    # each, so the enforcer's store is rebuilt from here after a loss.
    configs={"cleanup.policy": "compact"},
)
DOWNSTREAM_SYSTEMS = TopicSpec(
    "consentry.downstream-systems.v1",
    partitions=1,
    # The registered downstream AI systems, keyed by name: the latest record is the system.
    configs={"cleanup.policy": "compact"},
)
RECEIPTS = TopicSpec(
    "consentry.receipts.v1",
    partitions=6,
    # Downstream systems' receipts, keyed by "<system>|<change>": the proof they acted,
    # kept forever like the consent history.
    configs={"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"},
)
USAGE = TopicSpec(
    "consentry.usage.v1",
    partitions=6,
    # AI features' usage and attribution reports, keyed by reporter: the ledger every
    # statement is recomputed from, kept forever like the consent history.
    configs={"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"},
)
VIOLATIONS = TopicSpec(
    "consentry.usage-violations.v1",
    partitions=6,
    # Uses of tracks denied at that moment, keyed by ISRC: kept forever.
    configs={"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"},
)
METER_GROUP = "consentry-meter"
METER_TABLES = ("units", "seen")
"""The meter's faust tables; each has a compacted changelog topic partitioned like
``USAGE`` (faust writes a key's changes to the partition of the record that made them)."""
METER_CHANGELOGS = tuple(
    TopicSpec(f"{METER_GROUP}-{table}-changelog", USAGE.partitions, {"cleanup.policy": "compact"})
    for table in METER_TABLES
)
DEAD_LETTER = TopicSpec(
    "consentry.dead-letter.v1",
    partitions=1,
    configs={"cleanup.policy": "delete", "retention.ms": "-1"},
)

TOPICS: tuple[TopicSpec, ...] = (
    CONSENT_CHANGES,
    CATALOGUE,
    ENFORCEMENT,
    ENFORCEMENT_STATE,
    DOWNSTREAM_SYSTEMS,
    RECEIPTS,
    USAGE,
    VIOLATIONS,
    *METER_CHANGELOGS,
    DEAD_LETTER,
)

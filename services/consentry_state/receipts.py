"""The receipts tracker's book, in the enforcer's store: which downstream systems are
registered, which changes each must acknowledge and by when, what each answered, and
per decision how far it has propagated.

Written by the tracker only (``consentry_receipts``), from the logs: the change feed,
the receipts topic, the downstream-systems topic and the consent topic -- so it can be
rebuilt from them like everything in the store. Read by the write API (a decision's
receipt) and the tracker's metrics (overdue receipts).

* A **change** is a place on the feed, ``<partition>:<offset>``; for each system whose
  purposes cover its purpose it is pending until the system's receipt, due
  ``deadline_s`` after it was published;
* a **decision**'s propagation is keyed by its cause, ``<topic>:<partition>:<offset>``:
  when it was recorded, when the check state was first seen to hold it, how many
  changes it made, and per system how many are pending, done, not held or failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from redis.asyncio import Redis

from consentry_events import DownstreamSystem, ReceiptStatus
from consentry_state import keys
from consentry_state.scripts import RECEIPTS, run
from consentry_state.text import text as _text


def cause_of(topic: str, partition: int, offset: int) -> str:
    return f"{topic}:{partition}:{offset}"


@dataclass(frozen=True, slots=True)
class DecisionPlace:
    party: str
    cause: str
    recorded_ms: int

    @property
    def partition(self) -> tuple[str, int, int]:
        """(topic, partition, offset)"""
        topic, partition, offset = self.cause.rsplit(":", 2)
        return topic, int(partition), int(offset)


@dataclass(frozen=True, slots=True)
class SystemProgress:
    pending: int = 0
    done: int = 0
    not_held: int = 0
    failed: int = 0
    last_receipt_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Propagation:
    recorded_ms: int | None
    enforced_ms: int | None
    """By when checks enforced the decision, at the latest: the first of the tracker's
    polls (every few ms) that found the check state's watermark past it."""
    changed: int
    first_change_ms: int | None
    last_change_ms: int | None
    systems: dict[str, SystemProgress] = field(default_factory=dict)


class ReceiptBook:
    def __init__(self, store: Redis) -> None:
        self._store = store

    async def register(self, systems: Sequence[DownstreamSystem]) -> None:
        if systems:
            await self._store.hset(
                keys.RC_SYSTEMS, mapping={s.name: s.model_dump_json() for s in systems}
            )

    async def systems(self) -> dict[str, DownstreamSystem]:
        found = await self._store.hgetall(keys.RC_SYSTEMS)
        return {_text(k): DownstreamSystem.model_validate_json(v) for k, v in sorted(found.items())}

    async def note(self, operations: Sequence[str]) -> None:
        """Apply ``lua/receipts.lua`` operations (see ``change``, ``published``,
        ``receipt``) atomically."""
        if operations:
            await run(self._store, RECEIPTS, *operations)

    @staticmethod
    def published(cause: str, partition: int, offset: int, ms: int) -> str:
        return f"n|{cause}|{partition}|{offset}|{ms}"

    @staticmethod
    def change(system: str, change: str, cause: str, due_ms: int) -> str:
        return f"c|{system}|{change}|{cause}|{due_ms}"

    @staticmethod
    def receipt(
        system: str, change: str, status: ReceiptStatus, ms: int, reason: str | None
    ) -> str:
        said = (reason or "").replace("|", "/")  # '|' separates the script's fields
        return f"r|{system}|{change}|{status.value}|{ms}|{said}"

    async def decisions_seen(self, seen: Sequence[tuple[str, DecisionPlace]], now_ms: int) -> None:
        """Index decisions by id, and watch for the check state to hold them."""
        if not seen:
            return
        async with self._store.pipeline(transaction=False) as pipe:
            for decision_id, place in seen:
                where = f"{place.party}|{place.cause}|{place.recorded_ms}"
                pipe.hsetnx(keys.RC_DECISIONS, decision_id, where)
                decision = keys.rc_decision_key(place.cause)
                pipe.hsetnx(decision, "recorded_ms", place.recorded_ms)
                pipe.hsetnx(keys.RC_WATCH, place.cause, now_ms)
            await pipe.execute()

    async def watched(self) -> dict[str, int]:
        """Cause -> when first seen, for decisions not yet seen applied."""
        found = await self._store.hgetall(keys.RC_WATCH)
        return {_text(k): int(v) for k, v in found.items()}

    async def enforced(self, causes: Sequence[tuple[str, int]]) -> None:
        """(cause, ms): the check state was seen holding the decision at ms."""
        if not causes:
            return
        async with self._store.pipeline(transaction=False) as pipe:
            for cause, ms in causes:
                pipe.hsetnx(keys.rc_decision_key(cause), "enforced_ms", ms)
            pipe.hdel(keys.RC_WATCH, *(cause for cause, _ in causes))
            await pipe.execute()

    async def overdue(self, systems: Sequence[str], now_ms: int) -> dict[str, tuple[int, int]]:
        """Per system: (pending, of which overdue)."""
        async with self._store.pipeline(transaction=False) as pipe:
            for system in systems:
                pipe.zcard(keys.rc_due_key(system))
                pipe.zcount(keys.rc_due_key(system), "-inf", now_ms)
            counts = await pipe.execute()
        return {
            system: (int(counts[2 * i]), int(counts[2 * i + 1])) for i, system in enumerate(systems)
        }

    async def place_of(self, decision_id: str) -> DecisionPlace | None:
        raw = await self._store.hget(keys.RC_DECISIONS, decision_id)
        if raw is None:
            return None
        party, cause, recorded = _text(raw).split("|")
        return DecisionPlace(party, cause, int(recorded))

    async def propagation(self, cause: str) -> Propagation:
        raw = {
            _text(k): int(v)
            for k, v in (await self._store.hgetall(keys.rc_decision_key(cause))).items()
        }
        per: dict[str, dict[str, int]] = {}
        for name, value in raw.items():
            if "|" in name:
                system, what = name.split("|", 1)
                per.setdefault(system, {})[what] = value
        systems = {
            system: SystemProgress(
                pending=c.get("pending", 0),
                done=c.get(ReceiptStatus.DONE.value, 0),
                not_held=c.get(ReceiptStatus.NOT_HELD.value, 0),
                failed=c.get(ReceiptStatus.FAILED.value, 0),
                last_receipt_ms=c.get("last"),
            )
            for system, c in sorted(per.items())
        }
        return Propagation(
            recorded_ms=raw.get("recorded_ms"),
            enforced_ms=raw.get("enforced_ms"),
            changed=raw.get("changed", 0),
            first_change_ms=raw.get("first_ms"),
            last_change_ms=raw.get("last_ms"),
            systems=systems,
        )

"""A month settled from the logs, pure: the consent and catalogue logs and the usage
topic in, one statement per revenue pool out -- the same logs, the same statements.

1. The month's uses are the reported uses that happened in it (UTC), each reporter's use
   id once (the first report that carried it, in log order: what the meter counted).
2. Each is judged against the consent of its moment (``audit.judge``; a use reported
   later than the horizon after it happened is refused, by its report's log time, so
   judging again later gives the same judgements).
3. A pool takes the uses of its purpose (and the purposes under it) and the attribution
   reports of its purpose for the month; the tracks are held as the catalogue held them
   at the month's end -- holders, shares per side and AI disclosure (the most
   AI-inclusive of the delivery and the holders' statements) -- and ``revenue.settle``
   splits it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from consentry_domain.audit import Accepted, Judgement, Use, judge
from consentry_domain.purposes import Taxonomy
from consentry_domain.revenue import (
    Attributed,
    Holding,
    JudgedUse,
    Pool,
    RevenueError,
    Side,
    Statement,
    settle,
)
from consentry_domain.state import ConsentState
from consentry_events import TrackChanged, TrackStatus
from consentry_events.usage import AttributionReported, UsageEvent, UsageReported

POOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""A pool's name: it names files and addresses."""


@dataclass(frozen=True, slots=True)
class PoolTerms:
    """A revenue pool and the purpose whose uses share it."""

    pool: Pool
    purpose: str

    def covers(self, purpose: str) -> bool:
        return purpose == self.purpose or purpose.startswith(self.purpose + ".")


@dataclass(frozen=True, slots=True)
class Reported:
    """A record of the usage topic and the moment Kafka accepted it."""

    event: UsageEvent
    at_ms: int


def month_bounds(period: str) -> tuple[int, int]:
    """``2026-11`` -> its first and the next month's first millisecond (UTC)."""
    year, month = (int(part) for part in period.split("-"))
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def month_uses(usage: Iterable[Reported], period: str) -> list[Use]:
    """The month's uses, each reporter's use id once (its first report's)."""
    start, end = month_bounds(period)
    seen: set[str] = set()
    uses: list[Use] = []
    for record in usage:
        report = record.event
        if not isinstance(report, UsageReported):
            continue
        for use in report.uses:
            key = f"{report.reporter}|{use.use_id}"
            if key in seen:
                continue
            seen.add(key)
            counted = Use.reported(key, use, record.at_ms)
            if start <= counted.happened_ms < end:
                uses.append(counted)
    return uses


def holdings_at(log: Sequence[Accepted], isrcs: Iterable[str], at_ms: int) -> dict[str, Holding]:
    """The tracks as the catalogue (and their holders' statements) held them at ``at_ms``."""
    wanted = set(isrcs)
    state = ConsentState()
    records: dict[str, TrackChanged] = {}
    for record in sorted(log, key=lambda r: r.at_ms):
        if record.at_ms >= at_ms:
            break
        state.apply(record.event, record.offset)
        if isinstance(record.event, TrackChanged) and record.event.isrc in wanted:
            records[record.event.isrc] = record.event
    held: dict[str, Holding] = {}
    for isrc, track in records.items():
        shares: dict[tuple[str, Side], int] = {
            (share.party, share.side): share.basis_points for share in track.shares
        }
        merged = state.track(isrc)  # the delivery's disclosure and the holders' statements
        retired = merged is None or merged.status is TrackStatus.RETIRED
        disclosure = None if retired or merged is None else merged.disclosure
        held[isrc] = Holding(isrc, tuple(track.parties), shares, disclosure)
    return held


def settle_month(
    period: str,
    log: Sequence[Accepted],
    usage: Sequence[Reported],
    pools: Sequence[PoolTerms],
    taxonomy: Taxonomy,
    horizon_ms: int,
) -> list[Statement]:
    """Each pool's statement for the month (see the module's rules)."""
    _, end = month_bounds(period)
    judged = judge(log, month_uses(usage, period), taxonomy, now_ms=end, horizon_ms=horizon_ms)
    counted = [j for j in judged if j.judgement is not Judgement.TOO_LATE]
    holdings = holdings_at(log, {j.use.isrc for j in counted}, end)
    statements: list[Statement] = []
    for terms in pools:
        uses = [
            JudgedUse(j.use.use_id, j.use.isrc, j.use.units, j.judgement is Judgement.ALLOWED)
            for j in counted
            if terms.covers(j.use.purpose)
        ]
        attributions = [
            Attributed(f"{report.reporter}|{report.output_id}", item.isrc, item.side, item.share)
            for report in _attributions(usage, period)
            if terms.covers(report.purpose)
            for item in report.shares
        ]
        statements.append(settle(terms.pool, period, holdings, uses, attributions))
    return statements


def _attributions(usage: Iterable[Reported], period: str) -> list[AttributionReported]:
    """The month's attribution reports, each reporter's output once (its latest report)."""
    latest: dict[tuple[str, str], AttributionReported] = {}
    for record in usage:
        report = record.event
        if isinstance(report, AttributionReported) and report.period == period:
            latest[report.reporter, report.output_id] = report
    return [latest[key] for key in sorted(latest)]


class Bearing:
    """Which log records can bear on the statements of the tracks some uses used: those
    tracks' catalogue records, then the records of every party ever listed on them.
    Read from a record's JSON before it is decoded as an event, so a settlement decodes
    only these (a record that is no JSON object bears on nothing, as it is no event)."""

    def __init__(self, usage: Iterable[Reported]) -> None:
        self.isrcs = {
            use.isrc
            for record in usage
            if isinstance(record.event, UsageReported)
            for use in record.event.uses
        }
        self.parties: set[str] = set()

    def track(self, value: bytes | None) -> bool:
        """A catalogue record: whether it is one of the used tracks' (its holders then
        bear on them too)."""
        found = _json_object(value)
        isrc = found.get("isrc")
        if not isinstance(isrc, str) or isrc not in self.isrcs:
            return False
        self.parties.update(p for p in found.get("parties", ()) if isinstance(p, str))
        return True

    def party(self, value: bytes | None) -> bool:
        """A consent-log record: whether its party holds (or held) a used track. Ask
        after every catalogue record was read."""
        party = _json_object(value).get("party")
        return isinstance(party, str) and party in self.parties


def _json_object(value: bytes | None) -> dict[str, Any]:
    try:
        found = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}


def pools_from_toml(text: str) -> list[PoolTerms]:
    """Revenue pools from TOML, one table per pool (``RevenueError`` saying what is wrong)::

    [pools.training]
    purpose = "ai.training"      # its uses, and those of the purposes under it
    amount = "1000.00"           # a string: read exactly
    currency = "EUR"
    model = "equal"              # equal | pro_rata | attribution
    sides = {master = 1, composition = 1}   # optional; half each
    exclude_ai = ["all"]         # optional: disclosures that earn nothing from it
    minor_units = 2              # optional: the currency's decimal places
    """
    try:
        tables = tomllib.loads(text).get("pools", {})
    except tomllib.TOMLDecodeError as exc:
        raise RevenueError(f"the pools file is not TOML: {exc}") from exc
    terms: list[PoolTerms] = []
    for name, table in sorted(tables.items()):
        if not POOL_NAME.fullmatch(name):
            raise RevenueError(f"pool {name!r}: a name is 1-64 letters, digits, '_' or '-'")
        try:
            pool = Pool(
                name,
                Decimal(str(table["amount"])),
                str(table["currency"]),
                table["model"],
                dict(table.get("sides", {"master": 1, "composition": 1})),
                frozenset(table.get("exclude_ai", ())),
                int(table.get("minor_units", 2)),
            )
            terms.append(PoolTerms(pool, str(table["purpose"])))
        except (KeyError, TypeError, InvalidOperation) as exc:
            raise RevenueError(f"pool {name}: {exc!r} (see pools_from_toml)") from exc
        if pool.model not in ("equal", "pro_rata", "attribution"):
            raise RevenueError(f"pool {name}: unknown model {pool.model!r}")
    if not terms:
        raise RevenueError("the pools file names no [pools.<name>] table")
    return terms

"""``consentry-admin statement PERIOD --pools FILE``: a month's revenue statements,
settled from the logs (``consentry_domain.settlement``) and written as JSON and CSV.

It reads the usage topic, and the consent and catalogue records that bear on the tracks
it names, to their ends as the auditor; the same
logs give byte-identical files, so a statement can be recomputed and compared at any
time (after the reporting horizon has passed, nothing can change it any more). With
``--publish`` each rights holder's own view of each statement goes to the enforcer's
store (user ``settle``), where the write API serves it to that holder alone.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import click
from pydantic import ValidationError
from redis.asyncio import Redis

from consentry_admin.auditor import auditor, bootstrap_option
from consentry_domain import load_taxonomy
from consentry_domain.audit import Accepted
from consentry_domain.revenue import RevenueError, Statement
from consentry_domain.settlement import Bearing, Reported, pools_from_toml, settle_month
from consentry_domain.statements import for_party, to_csv, to_json
from consentry_events import CATALOGUE, CONSENT_CHANGES, USAGE, DecodeError
from consentry_events.usage import read_usage
from consentry_kafka import KafkaConnection, LogRecord
from consentry_kafka.scan import all_partitions, read_to_end
from consentry_meter.settings import USAGE_HORIZON_S
from consentry_state import PartyStatement, StatementViews


async def read_logs(kafka: KafkaConnection) -> tuple[list[Accepted], list[Reported]]:
    """The usage topic, then the records of the consent and catalogue logs that bear on
    the tracks it names (``settlement.Bearing``: the others are never decoded), each
    with the moment Kafka accepted it (records that are no event are left out, as
    everywhere)."""
    usage: list[Reported] = []
    async for records in _scan(kafka, USAGE.name):
        for record in records:
            try:
                usage.append(Reported(read_usage(record.value or b""), record.timestamp_ms))
            except ValidationError:
                continue
    bearing = Bearing(usage)
    log: list[Accepted] = []
    for topic, bears in ((CATALOGUE.name, bearing.track), (CONSENT_CHANGES.name, bearing.party)):
        async for records in _scan(kafka, topic):
            for record in records:
                if not bears(record.value):
                    continue
                try:
                    log.append(
                        Accepted(
                            record.decoded(kafka.trust).event, record.offset, record.timestamp_ms
                        )
                    )
                except DecodeError:
                    continue
    return log, usage


async def _scan(kafka: KafkaConnection, topic: str) -> AsyncIterator[list[LogRecord]]:
    partitions = await all_partitions(kafka, [topic])
    async for records in read_to_end(
        kafka, partitions, client_id="consentry-settle", max_records=20_000
    ):
        yield records


async def publish_statements(store_url: str, statements: Sequence[Statement]) -> None:
    """Each holder named by each statement gets its own view of it (``for_party``)."""
    store = Redis.from_url(store_url, socket_timeout=10)
    try:
        views = StatementViews(store)
        for settled in statements:
            parties = set(settled.payouts) | {p for held in settled.holders.values() for p in held}
            await views.publish(
                settled.period,
                settled.pool.name,
                {
                    party: PartyStatement(to_json(mine), to_csv(mine))
                    for party in parties
                    for mine in [for_party(settled, party)]
                },
            )
    finally:
        await store.aclose()


def _summary(statement: Statement) -> str:
    pool = statement.pool
    lines = [f"{pool.name}: {pool.amount} {pool.currency} ({pool.model})"]
    lines += [f"  {party:<40} {amount:>14}" for party, amount in sorted(statement.payouts.items())]
    if statement.violations:
        lines.append(f"  {len(statement.violations)} uses in violation, earning nothing")
    if statement.undistributed:
        lines.append(f"  undistributed: {statement.undistributed} (no eligible use)")
    return "\n".join(lines)


@click.command("statement")
@click.argument("period")
@click.option(
    "--pools",
    "pools_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The month's revenue pools (TOML; see consentry_domain.settlement.pools_from_toml).",
)
@click.option(
    "--out",
    default=Path("statements"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write <period>-<pool>.json and .csv.",
)
@click.option(
    "--horizon-days",
    default=USAGE_HORIZON_S / 86_400,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="The reporting horizon the meter used: later reports are refused.",
)
@click.option(
    "--publish",
    is_flag=True,
    help="Also give each rights holder its own view of each statement through the read "
    "API (GET /v1/parties/{party}/statements), replacing what was published for the "
    "period's pools before.",
)
@click.option(
    "--store",
    "store_url",
    default=lambda: os.environ.get("CONSENTRY_SETTLE_STORE_URL"),
    help="The enforcer's store as user settle, for --publish; default $CONSENTRY_SETTLE_STORE_URL.",
)
@bootstrap_option
def statement(
    period: str,
    pools_file: Path,
    out: Path,
    horizon_days: float,
    publish: bool,
    store_url: str | None,
    bootstrap: str | None,
) -> None:
    """Settle PERIOD (a month, 2026-11) from the logs: one statement per pool."""
    if publish and not store_url:
        raise click.UsageError("--publish needs --store or $CONSENTRY_SETTLE_STORE_URL")
    if len(period) != 7 or period[4] != "-" or not period.replace("-", "").isdigit():
        raise click.BadParameter(f"{period!r} is not a month like 2026-11", param_hint="PERIOD")
    try:
        pools = pools_from_toml(pools_file.read_text())
        log, usage = asyncio.run(read_logs(auditor(bootstrap)))
        statements = settle_month(
            period, log, usage, pools, load_taxonomy(), int(horizon_days * 86_400_000)
        )
    except RevenueError as exc:
        raise click.ClickException(str(exc)) from exc
    out.mkdir(parents=True, exist_ok=True)
    for settled in statements:
        stem = out / f"{period}-{settled.pool.name}"
        stem.with_suffix(".json").write_text(to_json(settled))
        stem.with_suffix(".csv").write_text(to_csv(settled))
        click.echo(_summary(settled))
    click.echo(f"statements written to {out}/")
    if publish and store_url:
        asyncio.run(publish_statements(store_url, statements))
        click.echo("published to each rights holder (GET /v1/parties/{party}/statements)")

"""``consentry``: the downstream AI system's commands -- filter a data set, take a
snapshot, follow the change feed.

Redis (the check side's, read-only) from ``CONSENTRY_CHECK_*``, Kafka (the change feed,
read-only) from ``CONSENTRY_FEED_*``; ``source var/stack.env`` sets both for the local
stack. Results go to stdout (or ``--out``), the token and a summary to stderr: follow
the feed from that cursor to keep the result current.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import aclosing, asynccontextmanager
from pathlib import Path
from typing import IO, Any

import click

from consentry_domain import Verdict, load_taxonomy
from consentry_sdk.checker import redis_for_checks
from consentry_sdk.datasets import DataSetError, DataSets, Page
from consentry_sdk.feed import ChangeFeed, Checkpoint, FeedError, FeedItem, FeedSettings
from consentry_sdk.settings import CheckSettings
from consentry_sdk.stopping import run_until_signalled
from consentry_sdk.tables import filter_table
from consentry_state import StateReader


@asynccontextmanager
async def data_sets() -> AsyncIterator[DataSets]:
    settings = CheckSettings()
    redis = redis_for_checks(settings)
    try:
        yield DataSets(
            StateReader(redis),
            load_taxonomy(settings.purposes_file),
            feed=ChangeFeed(FeedSettings()),
            heartbeat_bound_ms=int(settings.heartbeat_bound_s * 1000),
        )
    finally:
        await redis.aclose()


def _lines(source: IO[str]) -> Iterator[str]:
    for line in source:
        if isrc := line.strip():
            yield isrc


async def _write(pages: AsyncIterator[Page], out: IO[str]) -> tuple[int, int, Page | None]:
    kept = checked = 0
    last = None
    async for page in pages:
        if page.isrcs:
            out.write("\n".join(page.isrcs) + "\n")
        kept += len(page.isrcs)
        checked += page.checked
        last = page
    return kept, checked, last


def _summary(what: str, kept: int, checked: int, last: Page | None, started: float) -> None:
    elapsed = time.monotonic() - started
    rate = checked / elapsed if elapsed > 0 else 0.0
    click.echo(
        f"{what}: {kept:,} of {checked:,} tracks in {elapsed:.2f}s ({rate:,.0f}/s)", err=True
    )
    if last is not None and last.cursor is not None:
        click.echo(f"token: {last.cursor}   (follow the change feed from it)", err=True)


def _run(coroutine: Coroutine[Any, Any, None]) -> None:
    try:
        asyncio.run(coroutine)
    except (DataSetError, FeedError) as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def main() -> None:
    """Consentry for downstream AI systems: data sets against consent, and the change feed."""


@main.command("filter")
@click.option("--purpose", required=True, help="e.g. ai.training")
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    help="Allowed ISRCs (default stdout); for a Parquet manifest, the Parquet file to write.",
)
@click.option(
    "--column", default="isrc", show_default=True, help="A Parquet manifest's ISRC column."
)
@click.argument("manifest", type=click.Path(dir_okay=False, allow_dash=True), default="-")
def filter_command(purpose: str, out: str, column: str, manifest: str) -> None:
    """The ISRCs of MANIFEST (one per line; - for stdin) allowed for PURPOSE, in order.
    A MANIFEST ending in .parquet is a table: its rows whose COLUMN is allowed are
    written to --out as Parquet, every other column kept, in order, the consent token in
    the file's metadata. Exits non-zero, saying why, when consent cannot be verified."""
    if manifest.endswith(".parquet"):
        _run(_filter_parquet(purpose, Path(manifest), column, out))
        return

    async def run() -> None:
        started = time.monotonic()
        with click.open_file(manifest) as source, click.open_file(out, "w", lazy=True) as target:
            async with data_sets() as sets:
                pages = sets.filter(_lines(source), purpose)
                kept, checked, last = await _write(pages, target)
        _summary(f"allowed for {purpose}", kept, checked, last, started)

    _run(run())


async def _filter_parquet(purpose: str, manifest: Path, column: str, out: str) -> None:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise click.ClickException(
            "Parquet needs pyarrow: pip install 'consentry[parquet]'"
        ) from None
    if out == "-":
        raise click.ClickException("a Parquet manifest needs --out FILE.parquet")
    started = time.monotonic()
    async with data_sets() as sets:
        try:
            found = await filter_table(sets, pq.read_table(manifest), column, purpose)
        except KeyError as exc:
            raise click.ClickException(str(exc.args[0])) from None
    pq.write_table(found.table, out)
    elapsed = time.monotonic() - started
    click.echo(
        f"allowed for {purpose}: {found.table.num_rows:,} of {found.rows:,} rows in "
        f"{elapsed:.2f}s ({found.malformed:,} not an ISRC, never allowed)",
        err=True,
    )
    if found.token is not None:
        click.echo(f"token: {found.token}   (follow the change feed from it)", err=True)


@main.command()
@click.option("--purpose", required=True, help="e.g. ai.training")
@click.option("--answer", type=click.Choice(["deny", "allow"]), default="deny", show_default=True)
@click.option("--party", default=None, help="Only this party's tracks, e.g. label:northern-lights.")
@click.option("--release", default=None, help="Only the tracks on this release (UPC).")
@click.option("--out", type=click.File("w"), default="-", help="ISRCs (default stdout).")
def snapshot(
    purpose: str, answer: str, party: str | None, release: str | None, out: IO[str]
) -> None:
    """Every registered track whose answer for PURPOSE is ANSWER."""

    async def run() -> None:
        started = time.monotonic()
        async with data_sets() as sets:
            pages = sets.snapshot(purpose, Verdict(answer), party=party, release=release)
            kept, checked, last = await _write(pages, out)
        _summary(f"{answer} for {purpose}", kept, checked, last, started)

    _run(run())


@main.command()
@click.option("--purpose", "purposes", multiple=True, help="Purposes to follow (default all).")
@click.option("--cursor", default=None, help="Resume after this cursor (default: from now).")
@click.option(
    "--cursor-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Resume from the cursor in this file, and keep it there as changes are printed.",
)
def follow(purposes: tuple[str, ...], cursor: str | None, cursor_file: Path | None) -> None:
    """Print each enforcement change as a JSON line, forever (Ctrl-C stops)."""
    if cursor is None and cursor_file is not None and cursor_file.exists():
        cursor = cursor_file.read_text().strip() or None

    async def run(stop: asyncio.Event) -> None:
        feed = ChangeFeed(FeedSettings()).follow(purposes or None, cursor)
        async with aclosing(feed) as items:
            async for item in items:
                if stop.is_set():
                    return
                await _print(item)

    async def _print(item: FeedItem) -> None:
        if not isinstance(item, Checkpoint):
            sys.stdout.write(item.event.model_dump_json() + "\n")
            sys.stdout.flush()
        elif not item.caught_up:
            behind = "unknown" if item.behind is None else f"{item.behind:,}"
            pending = "unknown" if item.unenforced is None else f"{item.unenforced:,}"
            click.echo(
                f"checkpoint: {behind} changes behind, {pending} accepted records not yet enforced",
                err=True,
            )
        if cursor_file is not None:
            await asyncio.to_thread(cursor_file.write_text, item.cursor.encode() + "\n")

    try:
        run_until_signalled(run)
    except FeedError as exc:
        raise click.ClickException(str(exc)) from exc


def _add_signals() -> None:
    """``consentry signals`` (TDMRep, Content-Usage, C2PA files) where the platform is
    installed; the light ``consentry-sdk`` distribution leaves it out, with c2pa."""
    try:
        from consentry_signals.cli import signals_group
    except ImportError:
        return
    main.add_command(signals_group)


_add_signals()


if __name__ == "__main__":
    main()

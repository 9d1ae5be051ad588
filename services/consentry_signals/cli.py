"""``consentry signals``: a track's AI reservations as files and sites carry them.

* ``show ISRC``: its TDMRep, Content-Usage and CAWG terms now;
* ``stamp AUDIO... [--isrc ISRC]``: a signed C2PA manifest with them into each file (its
  ISRC from ``--isrc``, else from the file's name, e.g. ``GBAYE2400001.wav``);
* ``read AUDIO...``: what each stamped file says; ``stale AUDIO...``: the stamped files
  whose track's consent changed since they were stamped (from the change feed);
  an AUDIO that is a folder stands for every WAV, MP3, FLAC and M4A file in it, at any
  depth, so a data pipeline stamps or checks a whole data set in one call;
* ``site --out DIR``: a catalogue site's ``/.well-known/tdmrep.json`` and ``robots.txt``,
  kept current from the change feed (``--once``: written once).

Redis (the check side's, read-only) from ``CONSENTRY_CHECK_*``, the change feed from
``CONSENTRY_FEED_*``, the signing certificate from ``--cert``/``--key`` (or
``CONSENTRY_SIGNALS_CERT``/``CONSENTRY_SIGNALS_KEY``), the terms from ``--terms``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from dataclasses import asdict
from pathlib import Path

import click

from consentry_domain import load_taxonomy
from consentry_sdk.checker import ConsentChecker, redis_for_checks
from consentry_sdk.feed import ChangeFeed, Checkpoint, Cursor, FeedChange, FeedSettings
from consentry_sdk.settings import CheckSettings
from consentry_sdk.stopping import run_until_signalled
from consentry_signals.publish import CatalogueSignals, SiteFiles, keep_current
from consentry_signals.site import Urls
from consentry_signals.stamp import TYPES, Credentials, StampError, read, stamp
from consentry_signals.terms import Terms
from consentry_state import StateReader

_TERMS = click.option(
    "--terms",
    "terms_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Which purposes each format speaks of (TOML; default: the shipped mapping).",
)


@asynccontextmanager
async def _catalogue(terms: Terms) -> AsyncIterator[CatalogueSignals]:
    settings = CheckSettings()
    redis = redis_for_checks(settings)
    reader = StateReader(redis)
    checker = ConsentChecker(
        reader,
        load_taxonomy(settings.purposes_file),
        heartbeat_bound_ms=int(settings.heartbeat_bound_s * 1000),
    )
    try:
        yield CatalogueSignals(reader, checker, terms)
    finally:
        await redis.aclose()


_AUDIO = click.argument(
    "given", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)


def audio_files(given: tuple[Path, ...]) -> list[Path]:
    """The files given, each folder replaced by the audio files in it (at any depth, in
    name order); a file given by name is kept whatever its suffix (stamping says why it
    cannot take one)."""
    found: list[Path] = []
    for path in given:
        if path.is_dir():
            inside = (p for p in path.rglob("*") if p.is_file())
            found.extend(sorted(p for p in inside if p.suffix.lower() in TYPES))
        else:
            found.append(path)
    return list(dict.fromkeys(found))


@click.group("signals")
def signals_group() -> None:
    """A track's AI reservations: shown, stamped into audio files, published for a site."""


@signals_group.command()
@click.argument("isrc")
@_TERMS
def show(isrc: str, terms_file: Path | None) -> None:
    """Print ISRC's reservations in every format (JSON)."""
    terms = Terms.load(terms_file)

    async def run() -> None:
        async with _catalogue(terms) as catalogue:
            found = (await catalogue.placed([isrc])).get(isrc)
        if found is None:
            raise click.ClickException(f"no track {isrc} is registered")
        out = {"isrc": isrc, "headers": found.signals.headers()}
        click.echo(json.dumps(out | {"cawg": found.signals.cawg_assertion()}, indent=2))

    asyncio.run(run())


@signals_group.command("stamp")
@_AUDIO
@click.option("--isrc", default=None, help="The track of every file (default: each file's name).")
@click.option(
    "--cert",
    type=click.Path(exists=True, path_type=Path),
    default=lambda: os.environ.get("CONSENTRY_SIGNALS_CERT"),
    help="Signing certificate chain, PEM (leaf first).",
)
@click.option(
    "--key",
    type=click.Path(exists=True, path_type=Path),
    default=lambda: os.environ.get("CONSENTRY_SIGNALS_KEY"),
    help="Its private key, PEM.",
)
@click.option("--alg", default="es256", show_default=True, help="es256, es384, ps256, ed25519 ...")
@_TERMS
def stamp_command(
    given: tuple[Path, ...],
    isrc: str | None,
    cert: Path | None,
    key: Path | None,
    alg: str,
    terms_file: Path | None,
) -> None:
    """Stamp each file, in place, with its track's reservations now."""
    if cert is None or key is None:
        raise click.UsageError("give --cert and --key (or CONSENTRY_SIGNALS_CERT/_KEY)")
    terms, credentials = Terms.load(terms_file), Credentials.from_files(cert, key, alg)
    files = audio_files(given)

    async def run() -> None:
        cursor = str(await ChangeFeed(FeedSettings()).end())
        wanted = {path: isrc or path.stem.upper() for path in files}
        async with _catalogue(terms) as catalogue:
            found = await catalogue.placed(sorted(set(wanted.values())))
            disclosed = await catalogue.disclosures(sorted(set(wanted.values())))
        for path, track in wanted.items():
            if track not in found:
                raise click.ClickException(f"{path.name}: no track {track} is registered")
            with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
                aside = Path(scratch) / path.name
                stamp(
                    path,
                    aside,
                    track,
                    found[track].signals,
                    credentials,
                    cursor=cursor,
                    disclosure=disclosed.get(track),
                )
                shutil.move(aside, path)
            click.echo(f"{path}: {track} stamped at cursor {cursor}")

    try:
        asyncio.run(run())
    except StampError as exc:
        raise click.ClickException(str(exc)) from exc


@signals_group.command("read")
@_AUDIO
def read_command(given: tuple[Path, ...]) -> None:
    """Print what each stamped file says (JSON lines; null for a file with no stamp)."""
    for path in audio_files(given):
        try:
            found = read(path)
        except StampError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(
            json.dumps({"file": str(path), "stamp": None if found is None else asdict(found)})
        )


@signals_group.command()
@_AUDIO
def stale(given: tuple[Path, ...]) -> None:
    """List the stamped files whose track's consent changed since they were stamped (the
    change feed read from each stamp's cursor to its end); exit 1 if any."""
    stamped = {}
    for path in audio_files(given):
        found = read(path)
        if found is not None and found.cursor is not None:
            stamped[path] = (found.isrc, Cursor.decode(found.cursor))
    if not stamped:
        return
    oldest = Cursor.earliest(cursor for _, cursor in stamped.values())

    async def changed() -> set[Path]:
        found: set[Path] = set()
        feed = ChangeFeed(FeedSettings(checkpoint_every_s=0.5))
        async with aclosing(feed.follow(None, oldest)) as items:
            async for item in items:
                if isinstance(item, Checkpoint) and item.behind == 0:
                    return found
                if isinstance(item, FeedChange):
                    partition, offset = (int(x) for x in item.change.split(":"))
                    for path, (track, cursor) in stamped.items():
                        since = cursor.offsets[partition] if partition < len(cursor.offsets) else 0
                        if track == item.event.isrc and offset >= since:
                            found.add(path)
        return found

    paths = asyncio.run(changed())
    for path in sorted(paths):
        click.echo(str(path))
    if paths:
        raise SystemExit(1)


@signals_group.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The site's root.",
)
@click.option("--track-url", default="/music/{upc}/{isrc}", show_default=True)
@click.option("--release-url", default="/music/{upc}/", show_default=True)
@click.option("--once", is_flag=True, help="Write the files once and stop.")
@_TERMS
def site(out: Path, track_url: str, release_url: str, once: bool, terms_file: Path | None) -> None:
    """Write a catalogue site's /.well-known/tdmrep.json and robots.txt, and keep them
    current from the change feed (Ctrl-C stops)."""
    terms = Terms.load(terms_file)
    files = SiteFiles(out, Urls(track_url, release_url))

    async def run(stop: asyncio.Event) -> None:
        feed = ChangeFeed(FeedSettings(checkpoint_every_s=0.5))
        async with _catalogue(terms) as catalogue:
            await keep_current(files, catalogue, feed, terms, once=once, stop=stop)

    run_until_signalled(run)

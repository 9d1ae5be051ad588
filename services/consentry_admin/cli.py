"""``consentry-admin``: make signing keys, issue tokens and portal login links, verify a
party's hash chain, import a catalogue file."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

import click
import httpx

from consentry_admin.auditor import auditor, bootstrap_option
from consentry_admin.catalogue_file import CatalogueFileError
from consentry_admin.ern_import import ErnSummary, import_messages, messages_in
from consentry_admin.importing import ImportRefused, Summary, import_file
from consentry_admin.keys import keys
from consentry_admin.settle import statement
from consentry_auth import (
    CHECK_AUDIENCE,
    WRITE_AUDIENCE,
    AuthError,
    Issuer,
    default_audiences,
    key_set_json,
    parse_keys,
)
from consentry_auth.keys import write_keys
from consentry_domain.chain import verify_chain
from consentry_ern.catalogue import PartyRule
from consentry_ern.deals import load_use_types
from consentry_kafka import party_records

_AUDIENCES = {"write": WRITE_AUDIENCE, "check": CHECK_AUDIENCE}
Command = TypeVar("Command", bound=Callable[..., Any])


SIGNING_KEY = click.option(
    "--key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=lambda: os.environ.get("CONSENTRY_SIGNING_KEY_FILE"),
    required=True,
    help="Private key (PEM); default $CONSENTRY_SIGNING_KEY_FILE.",
)
"""The issuer's private key: for tokens and login links."""


@click.group()
def main() -> None:
    """Consentry's operator commands."""


def key_directory(help_text: str) -> Callable[[Command], Command]:
    """``--dir``: where a key pair is (``private.pem``, ``public.pem``); each command that
    makes one says what else it does there."""
    return click.option(
        "--dir",
        "directory",
        type=click.Path(file_okay=False, path_type=Path),
        required=True,
        help=help_text,
    )


@main.command()
@key_directory("Where to write private.pem (mode 600) and public.pem.")
@click.option("--force", is_flag=True, help="Replace an existing key pair.")
def keygen(directory: Path, force: bool) -> None:
    """Make an Ed25519 key pair: the private key signs tokens, services get the public one."""
    if (directory / "private.pem").exists() and not force:
        raise click.ClickException(f"{directory}/private.pem exists (use --force to replace it)")
    write_keys(directory)
    click.echo(f"wrote {directory}/private.pem and {directory}/public.pem")


CANARY_PRINCIPALS = {
    "CONSENTRY_CANARY_PARTY_TOKEN": "canary:consentry",
    "CONSENTRY_CANARY_CATALOGUE_TOKEN": "catalogue:canary",
    "CONSENTRY_CANARY_CHECK_TOKEN": "service:canary",
}


@main.command("dev-credentials")
@key_directory("The shared key directory (a volume in docker-compose).")
@click.option("--ttl-days", default=30, show_default=True, help="Lifetime of the canary's tokens.")
def dev_credentials(directory: Path, ttl_days: int) -> None:
    """For a development stack: a key pair (kept if present), an event signing key pair
    in DIR/events with its key set DIR/events.json (kept if present), the canary's tokens in
    DIR/canary.env and the portal's check token in DIR/portal-check.token. A production
    deployment issues keys and tokens from its own secrets."""
    private = directory / "private.pem"
    if not private.exists():
        write_keys(directory)
    if not (directory / "events" / "private.pem").exists():
        # Events are signed with a key of their own; readers verify with DIR/events.json.
        _, event_public = write_keys(directory / "events")
        (directory / "events.json").write_text(key_set_json(parse_keys(event_public.read_bytes())))
    issuer = Issuer(private.read_bytes())
    lines = [
        f"{name}={issuer.issue(subject, default_audiences(subject), ttl_days * 86_400)}\n"
        for name, subject in CANARY_PRINCIPALS.items()
    ]
    (directory / "canary.env").write_text("".join(lines))
    portal = issuer.issue("service:portal", default_audiences("service:portal"), ttl_days * 86_400)
    (directory / "portal-check.token").write_text(portal + "\n")
    click.echo(
        f"keys and canary tokens in {directory}; more tokens with: "
        f"consentry-admin token <kind>:<id> --key {private}"
    )


@main.command()
@click.argument("subject")
@SIGNING_KEY
@click.option(
    "--aud",
    "audiences",
    type=click.Choice(sorted(_AUDIENCES)),
    multiple=True,
    help="Where the token is good (repeatable); default by kind: service -> check, "
    "admin -> both, others -> write.",
)
@click.option("--ttl", default=3600, show_default=True, help="Lifetime in seconds.")
def token(subject: str, key: Path, audiences: tuple[str, ...], ttl: int) -> None:
    """Issue a bearer token for SUBJECT (<kind>:<id>, e.g. artist:nina-vale)."""
    chosen = [_AUDIENCES[a] for a in audiences] or default_audiences(subject)
    try:
        click.echo(Issuer(key.read_bytes()).issue(subject, chosen, ttl))
    except AuthError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command("login-link")
@click.argument("party")
@SIGNING_KEY
@click.option(
    "--portal-url",
    default=lambda: os.environ.get("CONSENTRY_PORTAL_URL", "http://127.0.0.1:8703"),
    show_default="$CONSENTRY_PORTAL_URL",
    help="Where the portal is served.",
)
@click.option("--session", default=3600, show_default=True, help="Session length in seconds.")
@click.option("--valid", default=600, show_default=True, help="Seconds the link may be used in.")
def login_link(party: str, key: Path, portal_url: str, session: int, valid: int) -> None:
    """A one-time link that signs PARTY in to the portal (used once, within --valid)."""
    try:
        link = Issuer(key.read_bytes()).login_link(party, session, valid)
    except AuthError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{portal_url.rstrip('/')}/login?link={link}")


@main.command("verify-chain")
@click.argument("party")
@bootstrap_option
def verify_chain_command(party: str, bootstrap: str | None) -> None:
    """Verify PARTY's hash chain and its events' signatures from Kafka (the event key set
    of $CONSENTRY_AUDIT_EVENT_KEYS_FILE); exit 1 and name the first broken link and the
    first event not validly signed."""
    report = verify_chain(party, asyncio.run(party_records(auditor(bootstrap), party)))
    click.echo(json.dumps(asdict(report), indent=2))
    if not report.intact:
        raise SystemExit(1)


def write_api(command: Command) -> Command:
    """``--url`` (the write API) and ``--token`` (a catalogue or admin token) of the
    import commands, from the environment by default."""
    command = click.option(
        "--token",
        default=lambda: os.environ.get("CONSENTRY_TOKEN"),
        help="A catalogue or admin bearer token; default $CONSENTRY_TOKEN.",
    )(command)
    return click.option(
        "--url",
        default=lambda: os.environ.get("CONSENTRY_WRITE_URL", "http://127.0.0.1:8701"),
        show_default="$CONSENTRY_WRITE_URL, else http://127.0.0.1:8701",
        help="The write API.",
    )(command)


@contextmanager
def importing(url: str, token: str | None) -> Iterator[httpx.Client]:
    """The write API's client for an import, its failures as the command's errors."""
    if not token:
        raise click.UsageError("give --token or set CONSENTRY_TOKEN (a catalogue token)")
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
            yield client
    except (CatalogueFileError, ImportRefused) as exc:
        raise click.ClickException(str(exc)) from exc
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot reach the write API at {url}: {exc}") from exc


def reported(summary: Summary | ErnSummary) -> None:
    """The totals as JSON on stdout; exit 1 if anything was refused."""
    click.echo(json.dumps(asdict(summary)))
    if summary.refused:
        raise SystemExit(1)


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@write_api
@click.option("--batch", default=5000, show_default=True, type=click.IntRange(1, 10_000))
def import_command(file: Path, url: str, token: str | None, batch: int) -> None:
    """Register, update or retire the tracks in FILE (.jsonl or .csv; see
    ``consentry_admin.catalogue_file`` for the columns), ``--batch`` lines a request.

    Refused lines are listed on stderr (line, field, reason) and change nothing; the rest
    are written. Tracks already held as given are left unchanged, so importing a file
    again is safe. Prints the totals and consistency tokens as JSON; exits 1 if any line
    was refused."""
    with file.open("rb") as stream:
        lines = sum(1 for _ in stream)
    with (
        importing(url, token) as client,
        click.progressbar(length=lines, label="importing", file=sys.stderr) as bar,
    ):
        summary = import_file(
            file,
            client,
            batch,
            on_refused=lambda e: click.echo(str(e), err=True),
            on_progress=bar.update,
        )
    reported(summary)


@main.command("import-ern")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@write_api
@click.option(
    "--parties",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A TOML [parties] table naming delivered parties' ids (see consentry_ern.catalogue).",
)
@click.option(
    "--decide-as-label",
    "label_token",
    default=None,
    help="The label's own token: also record, as the label's own decisions, the denies its "
    "deals imply (a release whose deals grant none of a purpose's AI use types).",
)
@click.option(
    "--deal-purposes",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A TOML [use_types] table: purpose -> the DDEX use types that allow it.",
)
@click.option("--batch", default=5000, show_default=True, type=click.IntRange(1, 10_000))
def import_ern_command(
    files: tuple[Path, ...],
    url: str,
    token: str | None,
    parties: Path | None,
    label_token: str | None,
    deal_purposes: Path | None,
    batch: int,
) -> None:
    """Import DDEX ERN 4.3 / 4.3.2 NewReleaseMessage FILES (a folder: every .xml file in
    it, at any depth -- a delivery as it arrives): each release's tracks, their
    rights holders, AI disclosure and shares, through the bulk import (a message already
    imported changes nothing; a release with no deal in force is taken down).

    A message that is hostile or malformed is refused whole -- listed on stderr with its
    element and line -- and nothing of it is registered; the others are imported. Prints
    the totals as JSON; exits 1 if any message was refused."""
    rule = PartyRule.load(parties)
    with importing(url, token) as client, ExitStack() as closing:
        label = None
        if label_token:
            as_label = {"Authorization": f"Bearer {label_token}"}
            label_client = httpx.Client(base_url=url, headers=as_label, timeout=30)
            label = (closing.enter_context(label_client), load_use_types(deal_purposes))
        summary = import_messages(
            messages_in(files),
            client,
            rule,
            batch=batch,
            label=label,
            on_refused=lambda e: click.echo(str(e), err=True),
        )
    reported(summary)


main.add_command(statement)
main.add_command(keys)

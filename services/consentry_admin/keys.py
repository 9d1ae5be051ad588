"""``consentry-admin keys``: the key sets services verify tokens and events with (JWKS,
by key id), for rotating a signing key without downtime. For tokens:

1. ``consentry-admin keygen --dir new`` -- a new key pair;
2. ``consentry-admin keys add new/public.pem --set keys.json`` -- services trust both
   keys within a second (they read the set again when it changes);
3. sign new tokens with ``new/private.pem`` (``token --key``): they carry the new key's id;
4. once the old key's last token has expired, ``consentry-admin keys retire <old id>
   --set keys.json``: tokens of the retired key are refused from then on.

Event keys the same way, with the readers' set (``*_EVENT_KEYS_FILE``): add the new
public key; once every reader has the new set (a second locally; on Kubernetes, once the
ConfigMap has reached every pod), put the new private key where the write API reads
``CONSENTRY_WRITE_EVENT_SIGNING_KEY_FILE`` -- it signs with it within a second, and not
before its own view of the set names it. Keep the old key in the set for as long as the
history it signed is read (always, for the consent log); retire a key only when it leaked,
and its events are refused from then on. ``keys cut-over`` prints the offsets from which
every event must be signed, for a deployment that has unsigned history.

The set is written whole to a temporary file and renamed over the old one, so a service
never reads half of it.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

import click
from aiokafka import TopicPartition
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from consentry_admin.auditor import auditor, bootstrap_option
from consentry_auth import key_set_json, parse_keys
from consentry_events.signing import SIGNED_TOPICS
from consentry_kafka import KafkaConnection, LogEnds, all_partitions
from consentry_kafka.signatures import CutOver

SET = click.option(
    "--set",
    "key_set",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The key set file services read: their *_AUTH_PUBLIC_KEY_FILE (tokens) or "
    "*_EVENT_KEYS_FILE (events).",
)


def _read(key_set: Path) -> dict[str, Ed25519PublicKey]:
    try:
        return dict(parse_keys(key_set.read_bytes()))
    except FileNotFoundError:
        return {}
    except (ValueError, KeyError) as exc:
        raise click.ClickException(f"{key_set} is not a key set: {exc}") from exc


def _write(key_set: Path, found: dict[str, Ed25519PublicKey]) -> None:
    if not found:
        raise click.ClickException("a key set must keep one key at least")
    fd, temporary = tempfile.mkstemp(dir=key_set.parent, prefix=".keys-")
    with os.fdopen(fd, "w") as out:
        out.write(key_set_json(found))
    os.chmod(temporary, 0o644)  # public keys: every service reads them
    os.replace(temporary, key_set)


@click.group()
def keys() -> None:
    """The key sets services verify tokens and events with: show, add, retire; the
    signed events' cut-over."""


@keys.command()
@SET
def show(key_set: Path) -> None:
    """The key ids the set trusts."""
    for kid in sorted(_read(key_set)):
        click.echo(kid)


@keys.command()
@click.argument("public_key", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@SET
def add(public_key: Path, key_set: Path) -> None:
    """Trust PUBLIC_KEY (PEM) beside the keys already in the set (made if missing)."""
    found = _read(key_set)
    added = parse_keys(public_key.read_bytes())
    _write(key_set, found | added)
    for kid in added:
        click.echo(f"trusted {kid}")


@keys.command()
@click.argument("key_id")
@SET
def retire(key_id: str, key_set: Path) -> None:
    """Stop trusting KEY_ID: tokens it signed are refused from then on."""
    found = _read(key_set)
    if key_id not in found:
        raise click.ClickException(f"{key_id} is not in {key_set}")
    del found[key_id]
    _write(key_set, found)
    click.echo(f"retired {key_id}")


@keys.command("cut-over")
@bootstrap_option
def cut_over(bootstrap: str | None) -> None:
    """Where the consent and catalogue logs end now, as the readers' *_EVENTS_SIGNED_FROM:
    run it once no unsigned producer is left (every write API signs); the unsigned records
    before it are legacy history, and every record from there on must be signed."""
    ends = asyncio.run(_ends(auditor(bootstrap)))
    click.echo(CutOver({(tp.topic, tp.partition): end for tp, end in ends.items()}).text())


async def _ends(kafka: KafkaConnection) -> dict[TopicPartition, int]:
    log_ends = LogEnds(kafka, timeout_s=10)
    try:
        return await log_ends(await all_partitions(kafka, sorted(SIGNED_TOPICS)))
    finally:
        await log_ends.close()

"""``consentry-stack``: run the local stack in the foreground, or fetch its parts."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType

import click

from consentry_signals.devcert import signing_chain
from consentry_stack.kafka_runtime import KAFKA_VERSION, kafka_libs
from consentry_stack.processes import StackError
from consentry_stack.stack import Stack
from consentry_stack.topics import create_topics

WALKTHROUGH_PRINCIPALS = {
    "artist": "artist:nina-vale",
    "label": "label:northern-lights",
    "catalogue": "catalogue:ingest",
    "service": "service:ai-dj",
    "admin": "admin:ops",
    "system": "system:training-pipeline",
}
"""Principals the README's walk-through acts as; their tokens go into the env file."""


def walkthrough_tokens(stack: Stack) -> dict[str, str]:
    tokens = {
        f"CONSENTRY_TOKEN_{name.upper()}": stack.token(subject)
        for name, subject in WALKTHROUGH_PRINCIPALS.items()
    }
    return {**tokens, "CONSENTRY_SIGNING_KEY_FILE": str(stack.signing_key)}


def say(text: str, err: bool = False) -> None:
    """Print, unless the reader of the output is gone (``make up | tee up.log`` and
    Ctrl-C ends ``tee`` first): then print nothing more, and go on stopping."""
    try:
        click.echo(text, err=err)
    except OSError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, (sys.stderr if err else sys.stdout).fileno())


@click.group()
def main() -> None:
    """Consentry's local stack on loopback: real Kafka and Redis, and the services."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")


@main.command()
def fetch_kafka() -> None:
    """Fetch Kafka's jars from Maven Central with Maven (cached)."""
    click.echo(f"Kafka {KAFKA_VERSION}: {kafka_libs()}")


@main.command()
@click.option("--bootstrap", required=True, help="Kafka bootstrap servers.")
@click.option("--replication", default=1, show_default=True, help="Replication factor.")
def topics(bootstrap: str, replication: int) -> None:
    """Create Consentry's topics on a Kafka cluster (existing ones are kept)."""
    create_topics(bootstrap, replication)
    click.echo("topics ready")


@main.command()
@click.option("--write-port", default=8701, show_default=True, help="Write API port (if free).")
@click.option("--check-port", default=8702, show_default=True, help="Check service port (if free).")
@click.option("--portal-port", default=8703, show_default=True, help="Portal port (if free).")
@click.option(
    "--env-file",
    type=click.Path(path_type=Path),
    default=Path("var/stack.env"),
    show_default=True,
    help="Where to write the stack's addresses, for `source` in another shell.",
)
def up(write_port: int, check_port: int, portal_port: int, env_file: Path) -> None:
    """Start Kafka, Redis, write API, materialiser, enforcer, receipts tracker and check
    service; Ctrl-C stops all."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Ctrl-C, a stop, or the terminal closed: stop everything. A SIGKILL cannot be
    # caught: the children's parent-death signal ends them then (``processes``).
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    root = Path(tempfile.mkdtemp(prefix="consentry-stack-"))
    stack = Stack(
        root, write_port=write_port, check_port=check_port, portal_port=portal_port, replica=True
    )
    started = time.monotonic()
    try:
        say(f"starting Kafka {KAFKA_VERSION} (KRaft) and Redis (state, enforcer store) ...")
        stack.start_infra()
        say("starting write API, materialiser, enforcer, receipts, check service ...")
        stack.start_services()
        say("starting Prometheus ...")
        prometheus = stack.start_prometheus()
        chain, key, _ = signing_chain(env_file.parent / "signals", keep=True)
        addresses = {
            **stack.describe(),
            **walkthrough_tokens(stack),
            "CONSENTRY_SIGNALS_CERT": str(chain.resolve()),
            "CONSENTRY_SIGNALS_KEY": str(key.resolve()),
        }
        env_file.parent.mkdir(parents=True, exist_ok=True)
        env_file.write_text("".join(f"export {k}={v}\n" for k, v in addresses.items()))
        env_file.chmod(0o600)
        say(f"\nConsentry is up in {time.monotonic() - started:.1f}s (logs in {root}):")
        say(f"  write API        {stack.write_url}   (docs: {stack.write_url}/docs)")
        say(f"  check service    {stack.check_url}   (docs: {stack.check_url}/docs)")
        say(
            f"  portal           {stack.portal_url}   (sign in: consentry-admin login-link "
            "artist:nina-vale)"
        )
        say("  materialiser     faust worker, group consentry-materialiser")
        say(
            "  enforcer         faust worker, group consentry-enforcer; metrics on "
            f"127.0.0.1:{stack.metrics_port('enforcer')}"
        )
        say(
            "  receipts         faust worker, group consentry-receipts; metrics on "
            f"127.0.0.1:{stack.metrics_port('receipts')}"
        )
        say(
            "  meter            faust worker, group consentry-meter (AI usage); metrics on "
            f"127.0.0.1:{stack.metrics_port('meter')}"
        )
        say(f"  Kafka            {stack.kafka.bootstrap}")
        say(f"  Redis            {stack.redis.url}   (admin user)")
        if stack.replica_redis is not None:
            say(f"  Redis replica    {stack.replica_redis.url}   (the check side reads here)")
        say(f"  enforcer store   {stack.store.url}   (admin user)")
        say(
            "  canary           flips canary:consentry every 5 s; metrics on "
            f"127.0.0.1:{stack.metrics_port('canary')}"
        )
        say(f"  Prometheus       {prometheus.url}   (alerts: {prometheus.url}/alerts)")
        if stack.traces is not None:
            say(
                f"  traces           {stack.traces.path}   (OTLP collector "
                f"{stack.traces.endpoint}; send a sampled traceparent to follow a request)"
            )
        say("\nDev tokens (24 h; more with `consentry-admin token <kind>:<id>`):")
        for name in WALKTHROUGH_PRINCIPALS:
            say(f"  $CONSENTRY_TOKEN_{name.upper():<10} {WALKTHROUGH_PRINCIPALS[name]}")
        say(f"\nIn another shell: source {env_file}   -- Ctrl-C here stops everything.")
        while not stop.wait(0.5):
            parts = [
                *stack.services.values(),
                *stack.kafka.processes,
                stack.redis.process,
                *([] if stack.replica_redis is None else [stack.replica_redis.process]),
                stack.store.process,
            ]
            for process in [*parts, prometheus.process]:
                if not process.alive():
                    raise StackError(f"{process.name} exited unexpectedly:\n{process.tail()}")
    except StackError as exc:
        say(f"error: {exc}", err=True)
        raise SystemExit(1) from exc
    finally:
        say("stopping ...")
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)
        env_file.unlink(missing_ok=True)
        say("stopped.")

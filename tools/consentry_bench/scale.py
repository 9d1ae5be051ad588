"""``python -m consentry_bench.scale``: the same measurements at 100k, 1M and 10M tracks.

Each size gets a stack of its own (Kafka, Redis with a read replica, the enforcer's store,
every service), loads the shaped catalogue through the real pipeline, and measures: memory
per million tracks and decisions (``INFO memory`` and ``MEMORY USAGE`` per family of
keys), apply and enforcer rates beside a plain aiokafka consumer, SDK and HTTP checks
beside a redis-py GET on the same replica, a major label's opt-out fanned out over its
whole catalogue, and the rebuild after Redis is flushed. Results are written after every
size, so a long run leaves what it has measured."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import click

from consentry_bench import bulk, fanout, http, load, many, measure, scale_report, writes
from consentry_bench.catalogue import Catalogue, isrc
from consentry_stack.stack import Stack

SOLO = 200
IMPORTED = 200_000
"""Tracks sent through the bulk import endpoint (outside the catalogue's shape)."""


def _in_process(check_url: str, reads_url: str, primary_url: str, sample: list[str]) -> Any:
    """The SDK checks and their redis-py reference, timed in a process of their own, as
    an AI feature's process would run them: not beside this one's bookkeeping of a
    10M-track catalogue and its garbage collections."""
    sdk = asyncio.run(measure.sdk_latencies(check_url, sample, "ai.training", iterations=20_000))
    get = asyncio.run(measure.python_get_loop(reads_url, 20_000, primary_url=primary_url))
    return sdk, get


def _checks(stack: Stack, catalogue: Catalogue, seconds: int, workdir: Path) -> dict[str, Any]:
    rng = random.Random(11)
    sample = [isrc(rng.randrange(catalogue.regular)) for _ in range(100_000)]
    reads = stack.replica_redis or stack.redis
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as aside:
        sdk, get = aside.submit(
            _in_process, stack.check_redis_url, reads.url, stack.redis.url, sample
        ).result()
    url, metrics = stack.check_url, f"{stack.check_url}/metrics/"
    targets = http.Targets.write(workdir, "scale", url, stack.token("service:bench"), sample)
    targets.warm_up()
    return {
        "sdk": sdk,
        "python_get": get,
        "http_single_2000": http.measured(targets.single, 2000, seconds, metrics, "check"),
        "http_batch_200": http.measured(targets.batch, 200, seconds, metrics, "batch"),
    }


def _one_size(size: int, seconds: int) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix=f"consentry-scale-{size}-"))
    stack = Stack(root, replica=True)
    try:
        click.echo(f"[{size:,}] starting the stack ...")
        stack.start_infra()
        stack.start_services()
        catalogue = Catalogue(size - SOLO, solo=SOLO)
        click.echo(f"[{size:,}] loading ...")
        result = asyncio.run(load.load(stack, catalogue))
        click.echo(f"[{size:,}] checks ...")
        result["checks"] = _checks(stack, catalogue, seconds, root)
        click.echo(f"[{size:,}] single decisions from many parties at once ...")
        result["writes"] = writes.under_load(stack, root)
        click.echo(f"[{size:,}] bulk import of {IMPORTED:,} tracks ...")
        result["bulk_import"] = asyncio.run(bulk.import_rate(stack, IMPORTED))
        click.echo(f"[{size:,}] one decision on 10,000 tracks ...")
        result["many"] = asyncio.run(many.many_opt_out(stack, IMPORTED))
        click.echo(f"[{size:,}] {catalogue.fan_out_tracks:,}-track label opts out ...")
        result["fan_out"] = asyncio.run(fanout.label_opt_out(stack, catalogue))
        click.echo(f"[{size:,}] rebuild after losing Redis ...")
        result["rebuild_s"] = asyncio.run(measure.rebuild_after_flush(stack.redis.url, 7200))
        return result
    finally:
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)


@click.command()
@click.option(
    "--sizes", default="100000,1000000,10000000", show_default=True, help="Catalogue sizes."
)
@click.option("--seconds", default=10, show_default=True, help="Each measured HTTP run.")
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("bench/results"), show_default=True
)
def main(sizes: str, seconds: int, out: Path) -> None:
    """Measure Consentry at each catalogue size; write scale.json and scale.md. Sizes
    measured before and not asked for now are kept, each with the time it was measured."""
    out.mkdir(parents=True, exist_ok=True)
    previous = out / "scale.json"
    results: dict[str, Any] = (
        json.loads(previous.read_text()) if previous.exists() else {"sizes": {}}
    )
    for size in (int(s) for s in sizes.split(",")):
        measured = _one_size(size, seconds)
        measured["measured_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        results["sizes"][str(size)] = measured
        results["sizes"] = dict(sorted(results["sizes"].items(), key=lambda kv: int(kv[0])))
        results["finished_at"] = measured["measured_at"]
        (out / "scale.json").write_text(json.dumps(results, indent=2) + "\n")
        (out / "scale.md").write_text(scale_report.markdown(results))
    click.echo(scale_report.markdown(results))


if __name__ == "__main__":
    main()

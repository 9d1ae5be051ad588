"""``python -m consentry_bench``: start the stack, load a catalogue, measure, report."""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import redis

from consentry_bench import (
    bulk,
    downstream,
    ern,
    fairness,
    http,
    load,
    manifests,
    measure,
    portal,
    report,
    signing,
    tools,
    tracing,
    usage,
    writes,
)
from consentry_bench.catalogue import Catalogue, isrc
from consentry_bench.opt_outs import OptOuts
from consentry_stack.kafka_runtime import KAFKA_VERSION
from consentry_stack.stack import Stack

SATURATION_START = 4000
"""Where the search for the highest rate held begins: it doubles or halves from there
and bisects (``http.highest_held``), so a slower or faster machine is measured too."""


def _http(stack: Stack, isrcs: list[str], seconds: int, workdir: Path) -> dict[str, Any]:
    token = stack.token("service:bench")
    url = stack.check_url
    one = http.Targets.write(workdir, "one", url, token, isrcs)
    one.warm_up()
    results: dict[str, Any] = {
        "single_2000": http.measured(one.single, 2000, seconds, f"{url}/metrics/", "check"),
        "batch_200": http.measured(one.batch, 200, seconds, f"{url}/metrics/", "batch"),
        "single_saturation": http.saturation(one.single, SATURATION_START, 5),
        "bare_saturation": http.saturation(one.bare, SATURATION_START, 5),
    }
    process, two = http.check_service(
        stack, workdir, "checkapi-2", {"CONSENTRY_CHECK_WORKERS": "2"}
    )
    try:
        second = http.Targets.write(workdir, "two", two, token, isrcs)
        second.warm_up()
        start = SATURATION_START
        results["two_workers_single_saturation"] = http.saturation(second.single, start, 5)
        results["two_workers_bare_saturation"] = http.saturation(second.bare, start, 5)
    finally:
        process.stop()
    return results


@click.command()
@click.option("--tracks", default=100_000, show_default=True, help="Catalogue size.")
@click.option("--opt-outs", default=200, show_default=True, help="Propagation samples.")
@click.option("--iterations", default=20_000, show_default=True, help="SDK samples per figure.")
@click.option(
    "--seconds", default=10, show_default=True, help="Duration of each measured HTTP run."
)
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("bench/results"), show_default=True
)
def main(tracks: int, opt_outs: int, iterations: int, seconds: int, out: Path) -> None:
    """Measure Consentry against DESIGN §4 and this machine's own references."""
    root = Path(tempfile.mkdtemp(prefix="consentry-bench-"))
    stack = Stack(root, replica=True, env_overrides=fairness.check_limits_env())
    results: dict[str, Any] = {}
    try:
        click.echo("starting the stack ...")
        stack.start_infra()
        stack.start_services()
        info = redis.Redis.from_url(stack.redis.url).info("server")
        checker_url = stack.check_redis_url
        admin_password = stack.redis.passwords["admin"]
        results["machine"] = {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "kafka": KAFKA_VERSION,
            "redis": info["redis_version"],
        }
        click.echo(f"loading {tracks:,} tracks and their decisions ...")
        catalogue = Catalogue(tracks - opt_outs, solo=opt_outs)
        results.update(asyncio.run(load.load(stack, catalogue)))
        regular = [isrc(i) for i in range(catalogue.regular)]
        click.echo("SDK ...")
        results["sdk"] = asyncio.run(
            measure.sdk_latencies(checker_url, regular, "ai.training", iterations=iterations)
        )
        click.echo("references ...")
        reads = stack.replica_redis or stack.redis  # the server checks read, measured beside
        results["reference"] = {
            "python_get": asyncio.run(
                measure.python_get_loop(reads.url, iterations, primary_url=stack.redis.url)
            ),
            "redis_benchmark_c1": tools.redis_benchmark(reads.port, admin_password, clients=1),
            "redis_benchmark_c50": tools.redis_benchmark(reads.port, admin_password, clients=50),
        }
        click.echo("HTTP ...")
        results["http"] = _http(stack, regular, seconds, root)
        click.echo("tracing: check p99 with tracing on at its default sampling, and off ...")
        results["tracing"] = tracing.check_cost(stack, regular, seconds, root)
        click.echo("a flood from one principal beside another's checks ...")
        results["fairness"] = asyncio.run(fairness.victim_under_flood(stack, regular[0]))
        click.echo(f"propagation over {opt_outs} opt-outs ...")
        results["propagation"] = asyncio.run(
            measure.propagation(
                OptOuts(stack.write_url, stack.token, catalogue.targets, "ai.dj"), checker_url
            )
        )
        click.echo("downstream: the data-set filter, a snapshot, the change feed ...")
        results["downstream"] = asyncio.run(
            downstream.filter_rate(checker_url, stack.kafka.bootstrap, regular, "ai.training")
        )
        results["manifests"] = asyncio.run(
            manifests.parquet_rate(checker_url, stack.kafka.bootstrap, regular, "ai.training")
        )
        results["feed"] = asyncio.run(
            downstream.feed_delay(
                OptOuts(stack.write_url, stack.token, catalogue.targets, "ai.generation"),
                stack.kafka.bootstrap,
            )
        )
        click.echo("usage: ingestion, a month's statements, checks while reporting ...")
        results["usage"] = {
            "ingestion": asyncio.run(usage.ingestion(stack, regular)),
            "statement": asyncio.run(usage.statement(stack)),
            "check": asyncio.run(usage.check_while_reporting(stack, regular)),
        }
        click.echo("write API: single decisions of 5,000 parties at 8, 32, 64 clients ...")
        results["writes"] = writes.under_load(stack, root)
        click.echo("event signatures: signing a batch, verifying each record ...")
        results["signatures"] = signing.cost()
        click.echo("rebuild after losing Redis ...")
        results["rebuild_s"] = asyncio.run(measure.rebuild_after_flush(stack.redis.url))
        # Last: the portal's label adds 100,000 tracks, which the figures above must not see.
        click.echo(f"portal: a label with {portal.TRACKS:,} tracks, its pages ...")
        loaded_s = asyncio.run(portal.load_label(stack))
        results["portal"] = {"loaded_s": loaded_s, **portal.page_timings(stack)}
        click.echo(f"ERN: a {ern.RELEASES:,}-release delivery, and its tracks as JSON ...")
        results["ern"] = ern.import_rate(stack, root / "ern", ern.RELEASES)
        results["ern"]["json"] = asyncio.run(bulk.import_rate(stack, results["ern"]["tracks"]))
        results["finished_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        click.echo(report.write(results, out))
    finally:
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

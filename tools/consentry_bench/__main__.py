"""``python -m consentry_bench``: start the stack, load a catalogue, measure, report."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import redis

from consentry_bench import http, measure, report, tools
from consentry_bench.catalogue import build
from consentry_stack.kafka_runtime import KAFKA_VERSION
from consentry_stack.ports import free_port
from consentry_stack.processes import ManagedProcess
from consentry_stack.readiness import await_ready
from consentry_stack.stack import Stack


async def _load(stack: Stack, tracks: int, targets: int, results: dict[str, Any]) -> Any:
    catalogue = build(tracks, targets)
    url, bootstrap = stack.redis.url, stack.kafka.bootstrap
    client = redis.asyncio.Redis.from_url(url)
    mem0 = await measure.memory_used(url)
    started = time.monotonic()
    marks = await measure.produce(bootstrap, catalogue.tracks)
    produced = time.monotonic() - started
    await measure.wait_watermarks(client, marks)
    in_redis = time.monotonic() - started
    await measure.wait_group_caught_up(bootstrap, "consentry-materialiser")
    committed = time.monotonic() - started
    await measure.wait_group_caught_up(bootstrap, "consentry-enforcer")
    enforced = time.monotonic() - started
    mem1 = await measure.memory_used(url)
    marks = await measure.produce(bootstrap, catalogue.decisions)
    await measure.wait_watermarks(client, marks)
    await measure.wait_group_caught_up(bootstrap, "consentry-materialiser")
    await measure.wait_group_caught_up(bootstrap, "consentry-enforcer")
    mem2 = await measure.memory_used(url)
    await client.aclose()
    n = len(catalogue.tracks)
    results["catalogue"] = {"tracks": n, "decisions": len(catalogue.decisions)}
    results["materialiser"] = {
        "produce_s": produced,
        "to_redis_s": in_redis,
        "fully_committed_s": committed,
        "events_per_s_to_redis": n / in_redis,
        "events_per_s_fully_committed": n / committed,
        "enforcer_caught_up_s": enforced,
        "enforcer_events_per_s": n / enforced,
    }
    results["memory"] = {
        "empty_bytes": mem0,
        "bytes_per_track": (mem1 - mem0) / n,
        "bytes_per_decision": (mem2 - mem1) / max(1, len(catalogue.decisions)),
    }
    return catalogue


SINGLE_RATES = [3000, 4000, 5000, 6000, 7000, 8000]
BARE_RATES = [4000, 6000, 8000, 10000, 12000]


def _check_service(stack: Stack, root: Path, workers: int) -> tuple[ManagedProcess, str]:
    """Another check service on the same state, with ``workers`` server processes."""
    port = free_port()
    env = {
        **stack.service_env(),
        "CONSENTRY_CHECK_PORT": str(port),
        "CONSENTRY_CHECK_WORKERS": str(workers),
    }
    process = ManagedProcess(
        f"checkapi-{workers}",
        [sys.executable, "-m", "consentry_checkapi"],
        root / f"checkapi-{workers}.log",
        env=env,
    )
    process.start()
    url = f"http://127.0.0.1:{port}"
    await_ready(f"{url}/readyz", process.name, time.monotonic() + 60, [process])
    return process, url


def _http(stack: Stack, isrcs: list[str], seconds: int, workdir: Path) -> dict[str, Any]:
    rng = random.Random(3)
    token = stack.token("service:bench")
    sample = rng.sample(isrcs, min(5000, len(isrcs)))
    bodies = [
        json.dumps({"purpose": "ai.training", "isrcs": rng.sample(isrcs, 100)}) for _ in range(50)
    ]

    def targets(url: str, name: str) -> tuple[Path, Path, Path]:
        single = http.get_targets(
            workdir / f"{name}-single.txt",
            [f"{url}/v1/check?isrc={i}&purpose=ai.training" for i in sample],
            token,
        )
        batch = http.post_targets(workdir / f"{name}-batch.txt", f"{url}/v1/check", bodies, token)
        bare = http.get_targets(workdir / f"{name}-bare.txt", [f"{url}/healthz"], None)
        return single, batch, bare

    url = stack.check_url
    single, batch, bare = targets(url, "one")
    http.attack(single, 1000, 3)  # warm-up: the first seconds after start are slower
    http.attack(batch, 100, 3)
    results: dict[str, Any] = {
        "single_2000": http.measured(single, 2000, seconds, f"{url}/metrics/", "check"),
        "batch_200": http.measured(batch, 200, seconds, f"{url}/metrics/", "batch"),
        "single_saturation": http.saturation(single, SINGLE_RATES, 5),
        "bare_saturation": http.saturation(bare, BARE_RATES, 5),
    }
    process, two = _check_service(stack, workdir, workers=2)
    try:
        single, _, bare = targets(two, "two")
        http.attack(single, 1000, 3)
        results["two_workers_single_saturation"] = http.saturation(single, SINGLE_RATES, 5)
        results["two_workers_bare_saturation"] = http.saturation(bare, BARE_RATES, 5)
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
    stack = Stack(root, replica=True)
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
        catalogue = asyncio.run(_load(stack, tracks, opt_outs, results))
        regular = catalogue.isrcs[: tracks - opt_outs]
        click.echo("SDK ...")
        results["sdk"] = asyncio.run(
            measure.sdk_latencies(checker_url, regular, "ai.training", iterations=iterations)
        )
        click.echo("references ...")
        results["reference"] = {
            "python_get": asyncio.run(measure.python_get_loop(stack.redis.url, iterations)),
            "redis_benchmark_c1": tools.redis_benchmark(
                stack.redis.port, admin_password, clients=1
            ),
            "redis_benchmark_c50": tools.redis_benchmark(
                stack.redis.port, admin_password, clients=50
            ),
        }
        click.echo("HTTP ...")
        results["http"] = _http(stack, regular, seconds, root)
        click.echo(f"propagation over {opt_outs} opt-outs ...")
        results["propagation"] = asyncio.run(
            measure.propagation(
                stack.write_url, checker_url, stack.token, catalogue.targets, "ai.dj"
            )
        )
        click.echo("rebuild after losing Redis ...")
        results["rebuild_s"] = asyncio.run(measure.rebuild_after_flush(stack.redis.url))
        results["finished_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        click.echo(report.write(results, out))
    finally:
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

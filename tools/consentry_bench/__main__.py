"""``python -m consentry_bench``: start the stack, load a catalogue, measure, report."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import redis

from consentry_bench import measure, report, tools
from consentry_bench.catalogue import build
from consentry_stack.kafka_runtime import KAFKA_VERSION
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
    mem1 = await measure.memory_used(url)
    marks = await measure.produce(bootstrap, catalogue.decisions)
    await measure.wait_watermarks(client, marks)
    await measure.wait_group_caught_up(bootstrap, "consentry-materialiser")
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
    }
    results["memory"] = {
        "empty_bytes": mem0,
        "bytes_per_track": (mem1 - mem0) / n,
        "bytes_per_decision": (mem2 - mem1) / max(1, len(catalogue.decisions)),
    }
    return catalogue


def _http(stack: Stack, isrcs: list[str], seconds: int, workdir: Path) -> dict[str, Any]:
    rng = random.Random(3)
    token = stack.token("service:bench")
    get_script = tools.lua_get_script(workdir / "get.lua", isrcs, "ai.training", token)
    bodies = [
        json.dumps({"purpose": "ai.training", "isrcs": rng.sample(isrcs, 100)}) for _ in range(50)
    ]
    batch_script = tools.lua_batch_script(workdir / "batch.lua", bodies, token)
    url = stack.check_url
    return {
        "single_low": tools.wrk(url, connections=8, seconds=seconds, script=get_script),
        "single_saturation": tools.wrk(url, connections=64, seconds=seconds, script=get_script),
        "batch": tools.wrk(url, connections=8, seconds=seconds, script=batch_script),
        "bare_healthz": tools.wrk(f"{url}/healthz", connections=64, seconds=seconds),
    }


@click.command()
@click.option("--tracks", default=100_000, show_default=True, help="Catalogue size.")
@click.option("--opt-outs", default=200, show_default=True, help="Propagation samples.")
@click.option("--iterations", default=20_000, show_default=True, help="SDK samples per figure.")
@click.option("--seconds", default=10, show_default=True, help="wrk duration per HTTP figure.")
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("bench/results"), show_default=True
)
def main(tracks: int, opt_outs: int, iterations: int, seconds: int, out: Path) -> None:
    """Measure Consentry against DESIGN §4 and this machine's own references."""
    root = Path(tempfile.mkdtemp(prefix="consentry-bench-"))
    stack = Stack(root)
    results: dict[str, Any] = {}
    try:
        click.echo("starting the stack ...")
        stack.start_infra()
        stack.start_services()
        info = redis.Redis.from_url(stack.redis.url).info("server")
        checker_url = stack.redis.url_for("checker")
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

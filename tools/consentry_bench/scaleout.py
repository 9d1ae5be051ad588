"""``python -m consentry_bench.scaleout``: aggregate apply throughput with 1, 2 and 3
materialiser workers in one consumer group on the default partitions.

For each worker count, a stack of its own: the catalogue log is filled first (nothing
consuming), then the workers start together and the time from the first record applied
to the last is taken -- so producing never competes with applying for the two cores,
and a group's join time is not counted as apply time."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import click
from redis.asyncio import Redis

from consentry_bench import measure
from consentry_bench.catalogue import Catalogue
from consentry_stack.stack import Stack
from consentry_state import LogProgress

TRACKS = 400_000


async def _first_applied(redis: Redis, fields: list[str], timeout_s: float = 120) -> float:
    """The monotonic time at which some partition first shows an applied record."""
    progress = LogProgress(redis)
    deadline = time.monotonic() + timeout_s
    tps = [(topic, int(p)) for topic, p in (f.rsplit(":", 1) for f in fields)]
    while time.monotonic() < deadline:
        applied = await progress.applied(tps)
        if any(offset >= 0 for offset in applied.values()):
            return time.monotonic()
        await asyncio.sleep(0.005)
    raise TimeoutError("no record applied")


async def _drain(stack: Stack, workers: int, tracks: int) -> dict[str, Any]:
    catalogue = Catalogue(tracks, solo=0)
    marks = await measure.produce(
        stack.kafka.bootstrap, stack.event_signing_key, catalogue.tracks()
    )
    processes = [stack.materialiser(f"materialiser-{n}") for n in range(workers)]
    for process in processes:
        process.start()
    redis = Redis.from_url(stack.redis.url)
    try:
        first = await _first_applied(redis, list(marks))
        await measure.wait_watermarks(redis, marks, timeout_s=1800)
        seconds = time.monotonic() - first
    finally:
        await redis.aclose()
        for process in processes:
            process.stop()
    return {"workers": workers, "events": tracks, "seconds": seconds, "per_s": tracks / seconds}


def _one(workers: int, tracks: int) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix=f"consentry-scaleout-{workers}-"))
    stack = Stack(root)
    try:
        stack.start_infra()
        return asyncio.run(_drain(stack, workers, tracks))
    finally:
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)


@click.command()
@click.option("--workers", default="1,2,3", show_default=True)
@click.option("--tracks", default=TRACKS, show_default=True)
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("bench/results"), show_default=True
)
def main(workers: str, tracks: int, out: Path) -> None:
    """Measure apply throughput per worker count; write scaleout.json."""
    results = [_one(int(n), tracks) for n in workers.split(",")]
    out.mkdir(parents=True, exist_ok=True)
    (out / "scaleout.json").write_text(json.dumps(results, indent=2) + "\n")
    for r in results:
        click.echo(f"{r['workers']} worker(s): {r['per_s']:,.0f} events/s ({r['seconds']:.1f} s)")


if __name__ == "__main__":
    main()

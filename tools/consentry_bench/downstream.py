"""Downstream figures: the data-set filter's ISRCs/s beside one check per track (the
anchor), a snapshot's scan rate, and the change feed's delay from an opt-out's 202 to
the change reaching a following consumer."""

from __future__ import annotations

import asyncio
import random
import time
from contextlib import aclosing
from typing import Any

from redis.asyncio import Redis

from consentry_bench.opt_outs import OptOuts
from consentry_bench.stats import summary_us
from consentry_domain import Verdict, load_taxonomy
from consentry_sdk import ChangeFeed, Checkpoint, CheckSettings, FeedSettings, connect
from consentry_sdk.datasets import DataSets
from consentry_state import StateReader


def _sets(redis: Redis, bootstrap: str) -> DataSets:
    return DataSets(
        StateReader(redis),
        load_taxonomy(None),
        feed=ChangeFeed(FeedSettings(kafka_bootstrap=bootstrap)),
    )


async def filter_rate(
    redis_url: str, bootstrap: str, isrcs: list[str], purpose: str, *, seed: int = 3
) -> dict[str, Any]:
    """The whole manifest (shuffled, with 1 % unknown ISRCs) through the filter, twice
    (the best counts: the first warms Redis's and the decoder's caches); the anchor is one
    SDK check per track over a sample, no cache."""
    rng = random.Random(seed)
    manifest = [*isrcs, *(f"ZZUNK{i:07d}" for i in range(len(isrcs) // 100))]
    rng.shuffle(manifest)
    redis = Redis.from_url(redis_url)
    try:
        sets = _sets(redis, bootstrap)
        runs = []
        allowed = 0
        for _ in range(2):
            started = time.perf_counter()
            allowed = 0
            async for page in sets.filter(manifest, purpose):
                allowed += len(page.isrcs)
            runs.append(len(manifest) / (time.perf_counter() - started))
        snapshot_started = time.perf_counter()
        denied = scanned = 0
        async for page in sets.snapshot(purpose, Verdict.DENY):
            denied += len(page.isrcs)
            scanned += page.checked
        snapshot_s = time.perf_counter() - snapshot_started
    finally:
        await redis.aclose()
    async with connect(CheckSettings(redis_url=redis_url, cache_bound_s=0)) as checker:
        sample = rng.sample(isrcs, min(20_000, len(isrcs)))
        started = time.perf_counter()
        for isrc in sample:
            await checker.check(isrc, purpose)
        one_by_one = len(sample) / (time.perf_counter() - started)
    return {
        "manifest": len(manifest),
        "allowed": allowed,
        "isrcs_per_s": max(runs),
        "runs_isrcs_per_s": runs,
        "one_check_per_track_per_s": one_by_one,
        "snapshot_denied": denied,
        "snapshot_scanned": scanned,
        "snapshot_tracks_per_s": scanned / snapshot_s,
    }


async def feed_delay(opt_outs: OptOuts, bootstrap: str) -> dict[str, Any]:
    """For each (isrc, artist) target: the artist opts out; the time from the write API's
    202 to the change reaching a consumer following the feed."""
    feed = ChangeFeed(FeedSettings(kafka_bootstrap=bootstrap, checkpoint_every_s=0.5))
    arrived: dict[str, int] = {}
    started = asyncio.Event()
    wanted = {isrc for isrc, _ in opt_outs.targets}

    async def follow() -> None:
        async with aclosing(feed.follow([opt_outs.purpose])) as items:
            async for item in items:
                if isinstance(item, Checkpoint):
                    started.set()
                elif item.event.isrc in wanted and item.event.answer == "deny":
                    arrived.setdefault(item.event.isrc, time.perf_counter_ns())
                    if len(arrived) == len(wanted):
                        return

    follower = asyncio.create_task(follow())
    delays: list[int] = []
    try:
        await asyncio.wait_for(started.wait(), 30)
        async with opt_outs.client() as http:
            for isrc, artist in opt_outs.targets:
                _, acked = await opt_outs.send(http, artist)
                deadline = time.monotonic() + 30
                while isrc not in arrived:
                    assert time.monotonic() < deadline, f"{isrc}'s change never reached the feed"
                    await asyncio.sleep(0.0005)
                delays.append(arrived[isrc] - acked)
    finally:
        follower.cancel()
    return {"from_acknowledgement": summary_us(delays), "samples": len(delays)}

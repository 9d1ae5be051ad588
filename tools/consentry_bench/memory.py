"""Where Redis memory goes: ``INFO memory`` deltas, and ``MEMORY USAGE`` per family of keys
(every key counted by SCAN, a sample of them sized, the total extrapolated)."""

from __future__ import annotations

import random
from typing import Any

from redis.asyncio import Redis

from consentry_state import keys

FAMILIES = {
    "track_buckets": keys.track_bucket(""),
    "chain_heads": keys.head_bucket(""),
}
"""Families of many keys, by prefix; ``SINGLE`` are one key each."""
SINGLE = {
    "release_decisions": keys.RELEASE_DECISIONS,
    "party_decisions": keys.PARTY_DECISIONS,
}


async def used(client: Redis) -> int:
    return int((await client.info("memory"))["used_memory"])


async def by_family(client: Redis, sample: int = 2000, seed: int = 5) -> dict[str, Any]:
    """Bytes per family of keys (``MEMORY USAGE ... SAMPLES 0``: every element counted)."""
    rng = random.Random(seed)
    out: dict[str, Any] = {}
    for name, prefix in FAMILIES.items():
        names = [k async for k in client.scan_iter(match=keys.pattern(prefix), count=10_000)]
        sizes = [
            int(await client.memory_usage(k, samples=0) or 0)
            for k in rng.sample(names, min(sample, len(names)))
        ]
        mean = sum(sizes) / len(sizes) if sizes else 0.0
        out[name] = {"keys": len(names), "bytes": round(mean * len(names)), "sampled": len(sizes)}
    for name, key in SINGLE.items():
        out[name] = {"keys": 1, "bytes": int(await client.memory_usage(key, samples=0) or 0)}
    return out

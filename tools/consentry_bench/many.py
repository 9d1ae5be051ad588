"""One decision on 10,000 tracks (``POST /v1/decisions/many``) on the imported catalogue:
the time to the 202, until checks given its token deny every track, until every
enforcement event is out (counted), and how long its one apply script held Redis."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from redis.asyncio import Redis

from consentry_bench import bulk, measure
from consentry_bench.fanout import Published
from consentry_events.models import MANY_WORKS_MAX
from consentry_stack.stack import Stack

LABEL = "label:import-0"
PURPOSE = "ai.training"
SLOW_US = 2_000
"""Script calls longer than this are kept in Redis's slow log while it runs."""


async def _script_hold_us(redis: Redis) -> int:
    """The longest script call in the slow log since it was reset (0 when none)."""
    entries = await redis.slowlog_get(128)
    held = [int(e["duration"]) for e in entries if _command(e["command"]).startswith("eval")]
    return max(held, default=0)


def _command(raw: bytes | str) -> str:
    return (raw.decode(errors="replace") if isinstance(raw, bytes) else raw).lower()


async def _until_all_denied(stack: Stack, isrcs: list[str], token: str) -> int:
    headers = {"Authorization": f"Bearer {stack.token('service:bench')}"}
    async with httpx.AsyncClient(base_url=stack.check_url, headers=headers, timeout=60) as http:

        async def part(chunk: list[str]) -> int:
            body = {"isrcs": chunk, "purpose": PURPOSE, "token": token}
            response = await http.post("/v1/check", json=body)
            response.raise_for_status()
            return sum(a["answer"] == "deny" for a in response.json()["answers"])

        counts = await asyncio.gather(
            *(part(isrcs[i : i + 1000]) for i in range(0, len(isrcs), 1000))
        )
    return sum(counts)


async def many_opt_out(stack: Stack, imported: int) -> dict[str, Any]:
    """The label of ``bulk``'s import opts 10,000 of its tracks out of one purpose."""
    held = [r["isrc"] for r in bulk.records(imported) if LABEL in r["parties"]]
    works = held[:MANY_WORKS_MAX]
    await measure.wait_group_caught_up(stack.kafka.bootstrap, "consentry-enforcer")
    published = Published(stack.kafka.bootstrap, PURPOSE)
    await published.start()
    redis = Redis.from_url(stack.redis.url)
    try:
        await redis.config_set("slowlog-log-slower-than", SLOW_US)
        await redis.slowlog_reset()
        body = {"party": LABEL, "purpose": PURPOSE, "choice": "deny", "scope": "track"}
        started = time.perf_counter()
        async with httpx.AsyncClient(base_url=stack.write_url, timeout=60) as http:
            response = await http.post(
                "/v1/decisions/many",
                json={**body, "works": works},
                headers={"Authorization": f"Bearer {stack.token(LABEL)}"},
            )
        acked = time.perf_counter()
        if response.status_code != 202:
            raise RuntimeError(f"the decision on many tracks was refused: {response.text}")
        denied = await _until_all_denied(stack, works, response.json()["token"])
        checked = time.perf_counter()
        began = time.monotonic()
        await published.until(len(works), timeout_s=600)
        hold_us = await _script_hold_us(redis)
    finally:
        await redis.config_set("slowlog-log-slower-than", 10_000)
        await redis.aclose()
    return {
        "works": len(works),
        "accepted_ms": (acked - started) * 1000,
        "checks_deny_after_202_ms": (checked - acked) * 1000,
        "denied": denied,
        "published_distinct": len(published.distinct),
        "missing": len(works) - len(published.distinct),
        "duplicates": published.total - len(published.distinct),
        "all_published_s": (published.last - began) + (checked - acked) if published.last else None,
        "apply_script_hold_ms": hold_us / 1000,
    }

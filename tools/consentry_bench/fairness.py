"""A flood from one principal beside another principal's checks (issue 26).

A victim checks one track at a steady pace through the check service's GET fast path,
alone and then while a flooding principal sends as fast as ``FLOOD_CONNECTIONS``
connections go; the flooder is limited (its limit named in the stack's settings: see
``FLOOD_LIMIT``), so most of its requests are 429s the service answers early. The
figure is the victim's p99 both ways: what a flood costs someone else."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx

from consentry_bench.stats import summary_us
from consentry_checkapi.settings import CheckServiceSettings
from consentry_http.limits import RateLimits
from consentry_stack.stack import Stack

FLOODER = "service:flood"
FLOOD_LIMIT = {FLOODER: {"per_s": 20, "burst": 20}}
"""Merged into the check service's ``CONSENTRY_CHECK_RATE_LIMITS`` by whoever starts
the stack."""
BOUND_MS = 50.0
"""The stated bound: a flood adds at most this to another principal's check p99."""
FLOOD_CONNECTIONS = 8
VICTIM_CHECKS = 300


def check_limits_env(**more: dict[str, float]) -> dict[str, str]:
    """The check service's settings with the flooder's limit (and ``more``: subject ->
    per_s and burst) beside the defaults."""
    field = CheckServiceSettings.model_fields["rate_limits"]
    defaults: RateLimits = field.get_default(call_default_factory=True)
    limits = {key: limit.model_dump() for key, limit in defaults.items()} | FLOOD_LIMIT | more
    return {"CONSENTRY_CHECK_RATE_LIMITS": json.dumps(limits)}


async def victim_under_flood(stack: Stack, isrc: str) -> dict[str, Any]:
    """The victim's latency alone and during the flood, and what the flood sent."""
    query = {"isrc": isrc, "purpose": "ai.training"}

    async def victim(client: httpx.AsyncClient) -> list[int]:
        took = []
        for _ in range(VICTIM_CHECKS):
            started = time.perf_counter_ns()
            response = await client.get("/v1/check", params=query)
            took.append(time.perf_counter_ns() - started)
            if response.status_code != 200:
                raise RuntimeError(f"the victim was refused: {response.status_code}")
            await asyncio.sleep(0.005)
        return took

    async def flood(stop: asyncio.Event) -> dict[int, int]:
        statuses: dict[int, int] = {}
        async with httpx.AsyncClient(
            base_url=stack.check_url, headers=stack.bearer(FLOODER), timeout=5
        ) as client:

            async def one() -> None:
                while not stop.is_set():
                    status = (await client.get("/v1/check", params=query)).status_code
                    statuses[status] = statuses.get(status, 0) + 1

            await asyncio.gather(*(one() for _ in range(FLOOD_CONNECTIONS)))
        return statuses

    async with httpx.AsyncClient(
        base_url=stack.check_url, headers=stack.bearer("service:victim"), timeout=5
    ) as client:
        alone = await victim(client)
        stop = asyncio.Event()
        flooding = asyncio.create_task(flood(stop))
        await asyncio.sleep(0.5)
        during = await victim(client)
        stop.set()
        statuses = await flooding
    return {
        "alone": summary_us(alone),
        "during": summary_us(during),
        "flood": {"sent": sum(statuses.values()), "refused_429": statuses.get(429, 0)},
    }

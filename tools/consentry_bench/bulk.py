"""The bulk catalogue import's rate: tracks acknowledged by Kafka per second through
``POST /v1/tracks/import`` (batches of 10,000, two requests in flight), first as new
tracks, then the same file again (every track unchanged)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from consentry_stack.stack import Stack

BATCH = 10_000
IN_FLIGHT = 2


def records(n: int) -> list[dict[str, Any]]:
    return [
        {
            "isrc": f"ZZBIM{i:07d}",
            "upc": f"7{i // 12:012d}",
            "parties": [f"artist:import-{i // 10}", f"label:import-{i % 7}"],
        }
        for i in range(n)
    ]


async def _send_all(stack: Stack, sent: list[dict[str, Any]]) -> tuple[float, dict[str, int]]:
    batches = [sent[i : i + BATCH] for i in range(0, len(sent), BATCH)]
    totals = {"written": 0, "unchanged": 0, "refused": 0}
    gate = asyncio.Semaphore(IN_FLIGHT)
    headers = {"Authorization": f"Bearer {stack.token('catalogue:bench')}"}
    async with httpx.AsyncClient(base_url=stack.write_url, headers=headers, timeout=300) as http:

        async def one(batch: list[dict[str, Any]]) -> None:
            async with gate:
                response = await http.post("/v1/tracks/import", json={"tracks": batch})
            response.raise_for_status()
            result = response.json()
            totals["written"] += result["written"]
            totals["unchanged"] += result["unchanged"]
            totals["refused"] += len(result["refused"])

        started = time.perf_counter()
        await asyncio.gather(*(one(b) for b in batches))
        return time.perf_counter() - started, totals


async def import_rate(stack: Stack, tracks: int) -> dict[str, Any]:
    sent = records(tracks)
    first_s, first = await _send_all(stack, sent)
    again_s, again = await _send_all(stack, sent)
    return {
        "tracks": tracks,
        "batch": BATCH,
        "in_flight": IN_FLIGHT,
        "new_per_s": tracks / first_s,
        "new": first,
        "reimport_per_s": tracks / again_s,
        "reimport": again,
    }

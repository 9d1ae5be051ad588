"""Watching a check over HTTP while a fault runs: every answer, in order."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

from consentry_stack.stack import Stack


@dataclass(frozen=True, slots=True)
class Answered:
    at: float
    """``time.monotonic()`` when the answer arrived."""
    status: int
    answer: str
    basis: str


async def watch_checks(stack: Stack, isrc: str, purpose: str, seconds: float) -> list[Answered]:
    """Check ``isrc`` over HTTP every 50 ms for ``seconds``; every answer, in order."""
    found: list[Answered] = []
    deadline = time.monotonic() + seconds
    headers = stack.bearer("service:fault-watch")
    async with httpx.AsyncClient(timeout=10) as http:
        while time.monotonic() < deadline:
            response = await http.get(
                f"{stack.check_url}/v1/check",
                params={"isrc": isrc, "purpose": purpose},
                headers=headers,
            )
            body = response.json() if response.status_code == 200 else {}
            basis = body["reasons"][0]["basis"] if body else ""
            found.append(
                Answered(time.monotonic(), response.status_code, body.get("answer", ""), basis)
            )
            await asyncio.sleep(0.05)
    return found

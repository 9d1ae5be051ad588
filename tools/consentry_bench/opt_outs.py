"""The opt-outs the propagation figures time: each target's artist opts out of one
purpose, party-wide, through the write API, one after another. Each figure starts its
clock at the request or at the write API's 202, and stops it where it looks (a caching
SDK, the change feed); the opt-outs themselves are the same."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class OptOuts:
    write_url: str
    token_for: Callable[[str], str]
    """A bearer token for a party (the stack's ``token``)."""
    targets: list[tuple[str, str]]
    """(isrc, artist): a track still allowed at ``purpose`` that its artist's opt-out denies."""
    purpose: str

    def client(self) -> httpx.AsyncClient:
        """One client for a run of opt-outs: its connection reused, not timed anew."""
        return httpx.AsyncClient(base_url=self.write_url, timeout=10)

    async def send(self, http: httpx.AsyncClient, artist: str) -> tuple[int, int]:
        """The artist's opt-out, POSTed and accepted: when it was sent and when the 202
        came back (``perf_counter_ns``)."""
        body = {"party": artist, "purpose": self.purpose, "choice": "deny", "scope": "party"}
        headers = {"Authorization": f"Bearer {self.token_for(artist)}"}
        sent = time.perf_counter_ns()
        response = await http.post("/v1/decisions", json=body, headers=headers)
        acked = time.perf_counter_ns()
        assert response.status_code == 202, response.text
        return sent, acked

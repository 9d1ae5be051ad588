"""The write API under load: single decisions from many parties at once, at a fixed
number of concurrent clients (vegeta with ``-rate=0``: each worker sends its next request
when the last is answered), 8, 32 and 64 of them. Every request is a different party's
party-wide decision (5,000 parties, taken in turn), so no two wait on one party's lock:
what is measured is the write path itself -- lock, chain head, intent, acks=all.

Then the same at 32 clients over two write API instances (a second process on the same
state and log, the targets alternating between them as a load balancer would): the
scale-out from one instance to two, on the same two cores as everything else."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from consentry_bench.http import latencies_us, vegeta_report
from consentry_bench.stats import met, ms
from consentry_stack.ports import free_port
from consentry_stack.processes import ManagedProcess
from consentry_stack.readiness import await_ready
from consentry_stack.stack import Stack

PARTIES = 5_000
CONCURRENCY = (8, 32, 64)


def decision_targets(stack: Stack, workdir: Path, urls: Sequence[str] = ()) -> Path:
    """One request per party, to ``urls`` in turn (the stack's write API by default)."""
    urls = urls or [stack.write_url]
    bodies = workdir / "write-bodies"
    bodies.mkdir(parents=True, exist_ok=True)
    lines = []
    for n in range(PARTIES):
        party = f"artist:load-{n:05d}"
        body = bodies / f"{n}.json"
        choice = "deny" if n % 2 else "allow"
        body.write_text(
            json.dumps(
                {"party": party, "purpose": "ai.training", "choice": choice, "scope": "party"}
            )
        )
        lines.append(
            f"POST {urls[n % len(urls)]}/v1/decisions\n"
            f"Authorization: Bearer {stack.token(party)}\nContent-Type: application/json\n"
            f"@{body}\n\n"
        )
    path = workdir / f"write-targets-{len(urls)}.txt"
    path.write_text("".join(lines))
    return path


def closed_loop(targets: Path, clients: int, seconds: float) -> dict[str, Any]:
    report = vegeta_report(
        targets,
        f"-rate=0 -workers={clients} -max-workers={clients} -duration={seconds}s -timeout=30s",
    )
    return {
        "clients": clients,
        "seconds": seconds,
        "per_s": report["throughput"],
        "success": report["success"],
        "status_codes": report["status_codes"],
        **latencies_us(report, "50th", "99th"),
    }


def under_load(stack: Stack, workdir: Path, seconds: float = 10) -> dict[str, Any]:
    targets = decision_targets(stack, workdir)
    closed_loop(targets, 8, 3)  # warm-up: first writes of each party, connections
    found: dict[str, Any] = {str(c): closed_loop(targets, c, seconds) for c in CONCURRENCY}
    found["two_instances_32"] = _two_instances(stack, workdir, seconds)
    return found


def _two_instances(stack: Stack, workdir: Path, seconds: float) -> dict[str, Any]:
    port = free_port()
    second = ManagedProcess(
        "writeapi-2",
        [sys.executable, "-m", "consentry_writeapi"],
        workdir / "writeapi-2.log",
        env={**stack.service_env(), "CONSENTRY_WRITE_PORT": str(port)},
    )
    second.start()
    try:
        url = f"http://127.0.0.1:{port}"
        await_ready(f"{url}/readyz", second.name, time.monotonic() + 60, [second])
        targets = decision_targets(stack, workdir, [stack.write_url, url])
        closed_loop(targets, 8, 3)
        return closed_loop(targets, 32, seconds)
    finally:
        second.stop()


def rows(w: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """The report's lines (``report.rows``)."""
    return [
        (
            "write API, single decisions of 5,000 parties at 8 / 32 / 64 clients (closed loop)",
            " / ".join(f"{w[c]['per_s']:,.0f}" for c in ("8", "32", "64"))
            + " per s; p99 "
            + " / ".join(ms(w[c]["p99_us"]) for c in ("8", "32", "64")),
            "≥ 2,000/s at 32 clients, never falling as clients grow",
            met(w["32"]["per_s"] >= 2000 and w["64"]["per_s"] >= w["8"]["per_s"]),
            "one write API process; the broker, Redis and the workers on the same two cores",
        ),
        (
            "write API, the same over two instances at 32 clients (issue 27)",
            f"{w['two_instances_32']['per_s']:,.0f} per s; p99 "
            f"{ms(w['two_instances_32']['p99_us'])}",
            "≥ 2,000/s (more instances)",
            met(w["two_instances_32"]["per_s"] >= 2000),
            f"one instance: {w['32']['per_s']:,.0f} per s",
        ),
    ]

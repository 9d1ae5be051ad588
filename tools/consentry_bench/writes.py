"""The write API under load: single decisions from many parties at once, at a fixed
number of concurrent clients (vegeta with ``-rate=0``: each worker sends its next request
when the last is answered), 8, 32 and 64 of them. Every request is a different party's
party-wide decision (5,000 parties, taken in turn), so no two wait on one party's lock:
what is measured is the write path itself -- lock, chain head, intent, acks=all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from consentry_bench.http import latencies_us, vegeta_report
from consentry_stack.stack import Stack

PARTIES = 5_000
CONCURRENCY = (8, 32, 64)


def decision_targets(stack: Stack, workdir: Path) -> Path:
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
            f"POST {stack.write_url}/v1/decisions\n"
            f"Authorization: Bearer {stack.token(party)}\nContent-Type: application/json\n"
            f"@{body}\n\n"
        )
    path = workdir / "write-targets.txt"
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
    return {str(c): closed_loop(targets, c, seconds) for c in CONCURRENCY}

"""Open-loop HTTP load with vegeta: requests arrive at a fixed rate whatever the answers'
latency, so a slow server shows as a long tail instead of as fewer requests (a fixed
number of connections, as wrk keeps, hides it). Client-side latency is vegeta's;
server-side latency is the check service's own histogram, read before and after."""

from __future__ import annotations

import json
import os
import random
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from consentry_stack.ports import free_port
from consentry_stack.processes import ManagedProcess
from consentry_stack.readiness import await_ready
from consentry_stack.stack import Stack

VEGETA = Path(os.environ.get("CONSENTRY_CACHE_DIR", Path.home() / ".cache" / "consentry"))
VEGETA = VEGETA / "bin" / "vegeta"


def vegeta() -> str:
    if not VEGETA.exists():
        raise RuntimeError("vegeta is missing: `make bench` builds it (scripts/setup-bench.sh)")
    return str(VEGETA)


def get_targets(path: Path, urls: list[str], token: str | None) -> Path:
    header = "" if token is None else f"Authorization: Bearer {token}\n"
    path.write_text("".join(f"GET {url}\n{header}\n" for url in urls))
    return path


def post_targets(path: Path, url: str, bodies: list[str], token: str) -> Path:
    lines = []
    for i, body in enumerate(bodies):
        body_file = path.parent / f"{path.stem}-{i}.json"
        body_file.write_text(body)
        lines.append(
            f"POST {url}\nAuthorization: Bearer {token}\nContent-Type: application/json\n"
            f"@{body_file}\n\n"
        )
    path.write_text("".join(lines))
    return path


@dataclass(frozen=True)
class Targets:
    """vegeta target files for one check service: single checks, batches of 100, and its
    bare health endpoint."""

    single: Path
    batch: Path
    bare: Path

    @classmethod
    def write(
        cls, workdir: Path, name: str, url: str, token: str, isrcs: list[str], seed: int = 3
    ) -> Targets:
        rng = random.Random(seed)
        sample = rng.sample(isrcs, min(5000, len(isrcs)))
        bodies = [
            json.dumps({"purpose": "ai.training", "isrcs": rng.sample(isrcs, 100)})
            for _ in range(50)
        ]
        return cls(
            single=get_targets(
                workdir / f"{name}-single.txt",
                [f"{url}/v1/check?isrc={i}&purpose=ai.training" for i in sample],
                token,
            ),
            batch=post_targets(workdir / f"{name}-batch.txt", f"{url}/v1/check", bodies, token),
            bare=get_targets(workdir / f"{name}-bare.txt", [f"{url}/healthz"], None),
        )

    def warm_up(self) -> None:
        """The first seconds after a service starts are slower; not what is measured."""
        attack(self.single, 1000, 3)
        attack(self.batch, 100, 3)


def vegeta_report(targets: Path, options: str) -> dict[str, Any]:
    """``vegeta attack`` with ``options`` on ``targets``, piped into its JSON report: the
    one way every bench runs vegeta, open loop (``-rate=N/s``) or closed (``-rate=0``)."""
    binary = vegeta()
    attack = subprocess.Popen(
        [binary, "attack", *shlex.split(options), f"-targets={targets}"], stdout=subprocess.PIPE
    )
    try:
        reported = subprocess.run(
            [binary, "report", "-type=json"],
            stdin=attack.stdout,
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        if attack.stdout is not None:
            attack.stdout.close()
        if attack.wait() != 0:
            raise subprocess.CalledProcessError(attack.returncode, attack.args)
    report: dict[str, Any] = json.loads(reported.stdout)
    return report


LATENCY_NAMES = {"50th": "p50_us", "99th": "p99_us", "max": "max_us"}
"""vegeta's name of a latency -> the name the bench results give it (in µs)."""


def latencies_us(report: dict[str, Any], *which: str) -> dict[str, float]:
    """The report's latencies named (``50th``, ``99th``, ``max``), from vegeta's ns to the
    µs every bench result is in."""
    return {LATENCY_NAMES[name]: report["latencies"][name] / 1000 for name in which}


def attack(targets: Path, rate: int, seconds: float) -> dict[str, float]:
    """Requests at ``rate``/s for ``seconds``: throughput, success and client latency."""
    report = vegeta_report(targets, f"-rate={rate}/s -duration={seconds}s -timeout=5s")
    return {
        "rate": rate,
        "seconds": seconds,
        "throughput": report["throughput"],
        "success": report["success"],
        **latencies_us(report, "50th", "99th", "max"),
    }


@dataclass(frozen=True)
class Histogram:
    """One route's cumulative bucket counts, from the service's /metrics."""

    buckets: list[tuple[float, float]]

    @classmethod
    def scrape(cls, metrics_url: str, route: str) -> Histogram:
        text = httpx.get(metrics_url, timeout=10).text
        pattern = (
            r'^consentry_check_http_request_seconds_bucket\{le="([^"]+)",route="'
            + re.escape(route)
            + r'"\} (\S+)$'
        )
        found = [(float(le), float(n)) for le, n in re.findall(pattern, text, re.M)]
        return cls(sorted(found))

    def since(self, before: Histogram) -> Histogram:
        earlier = dict(before.buckets)
        return Histogram([(le, n - earlier.get(le, 0.0)) for le, n in self.buckets])

    def quantile_us(self, q: float) -> float:
        """The q-quantile, interpolated inside its bucket (buckets of 100 µs to 1 s)."""
        total = self.buckets[-1][1] if self.buckets else 0.0
        if total <= 0:
            return float("nan")
        lower_le, lower_n = 0.0, 0.0
        for le, n in self.buckets:
            if n >= q * total:
                if le == float("inf"):
                    return lower_le * 1e6
                share = (q * total - lower_n) / max(n - lower_n, 1e-9)
                return (lower_le + share * (le - lower_le)) * 1e6
            lower_le, lower_n = le, n
        return lower_le * 1e6


def measured(
    targets: Path, rate: int, seconds: float, metrics_url: str | None, route: str
) -> dict[str, Any]:
    """An attack, with the server-side p50/p99 of the same requests when a histogram is
    given."""
    before = None if metrics_url is None else Histogram.scrape(metrics_url, route)
    result: dict[str, Any] = attack(targets, rate, seconds)
    if metrics_url is not None and before is not None:
        server = Histogram.scrape(metrics_url, route).since(before)
        result["server_p50_us"] = server.quantile_us(0.50)
        result["server_p99_us"] = server.quantile_us(0.99)
    return result


def held(step: dict[str, Any]) -> bool:
    """Served in full: every request answered 2xx, throughput within 2% of the offered
    rate, p99 under 100 ms."""
    return bool(
        step["success"] >= 0.999
        and step["throughput"] >= 0.98 * step["rate"]
        and step["p99_us"] < 1e5
    )


def highest_held(
    holds: Callable[[int], bool],
    start: int,
    *,
    floor: int = 100,
    resolution: float = 0.05,
    most_steps: int = 14,
) -> int:
    """The highest rate ``holds`` accepts, wherever it is: doubling from ``start`` while
    it holds (or halving while it does not, down to ``floor``), then bisecting between
    the highest rate held and the lowest not held until they are within ``resolution``
    of each other. 0 when not even ``floor`` holds. At most ``most_steps`` rates tried."""
    tried = 0

    def attempt(rate: int) -> bool:
        nonlocal tried
        tried += 1
        return holds(rate)

    rate = max(start, floor)
    if attempt(rate):
        good, bad = rate, None
        while bad is None and tried < most_steps:
            if attempt(rate * 2):
                good = rate = rate * 2
            else:
                bad = rate * 2
    else:
        good, bad = 0, rate
        while good == 0 and rate > floor and tried < most_steps:
            rate = max(floor, rate // 2)
            if attempt(rate):
                good = rate
            else:
                bad = rate
        if good == 0:
            return 0
    while bad is not None and bad - good > resolution * good and tried < most_steps:
        middle = (good + bad) // 2
        if attempt(middle):
            good = middle
        else:
            bad = middle
    return good


def saturation(targets: Path, start: int, seconds: float) -> dict[str, Any]:
    """The highest rate served in full (``held``), searched for from ``start`` (see
    ``highest_held``), and every step tried."""
    steps: list[dict[str, Any]] = []

    def holds(rate: int) -> bool:
        steps.append(attack(targets, rate, seconds))
        return held(steps[-1])

    return {"rate": highest_held(holds, start), "steps": steps}


def check_service(
    stack: Stack, root: Path, name: str, env: dict[str, str]
) -> tuple[ManagedProcess, str]:
    """Another check service on the stack's state, its settings changed by ``env``."""
    port = free_port()
    process = ManagedProcess(
        name,
        [sys.executable, "-m", "consentry_checkapi"],
        root / f"{name}.log",
        env={**stack.service_env(), "CONSENTRY_CHECK_PORT": str(port), **env},
    )
    process.start()
    url = f"http://127.0.0.1:{port}"
    await_ready(f"{url}/readyz", process.name, time.monotonic() + 60, [process])
    return process, url

"""What tracing costs the check path: single checks at 2,000 req/s (open loop) against a
check service with tracing on at its default sampling (``consentry_tracing``: a sampled
``traceparent`` always, 1 % of the rest) beside one with tracing off, on the same state,
measured in turn twice each so that neither has the machine's quieter minute."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from consentry_bench import http
from consentry_bench.stats import met, ms
from consentry_stack.stack import Stack

RATE = 2000

SETTINGS = {
    "on": {"OTEL_TRACES_EXPORTER": "otlp"},  # the stack's collector, default sampling
    "off": {"OTEL_TRACES_EXPORTER": "none"},
}


def check_cost(stack: Stack, isrcs: list[str], seconds: int, root: Path) -> dict[str, Any]:
    token = stack.token("service:bench")
    services = {
        way: http.check_service(stack, root, f"checkapi-tracing-{way}", env)
        for way, env in SETTINGS.items()
    }
    try:
        targets = {}
        for way, (_, url) in services.items():
            targets[way] = http.Targets.write(root, f"tracing-{way}", url, token, isrcs)
            targets[way].warm_up()
        runs: dict[str, list[dict[str, Any]]] = {way: [] for way in SETTINGS}
        for _ in range(2):
            for way, (_, url) in services.items():
                runs[way].append(
                    http.measured(targets[way].single, RATE, seconds, f"{url}/metrics/", "check")
                )
    finally:
        for process, _ in services.values():
            process.stop()
    return {
        way: {
            "p50_us": min(r["p50_us"] for r in measured),
            "p99_us": min(r["p99_us"] for r in measured),
            "p99_us_runs": [r["p99_us"] for r in measured],
            "success": min(r["success"] for r in measured),
        }
        for way, measured in runs.items()
    }


def row(t: dict[str, Any]) -> tuple[str, str, str, str, str]:
    """The report's line (``report.rows``)."""
    on, off = t["on"], t["off"]
    return (
        f"HTTP check with tracing on (default sampling), one track, {RATE:,} req/s",
        f"p50 {ms(on['p50_us'])}, p99 {ms(on['p99_us'])} (best of two runs: "
        + ", ".join(ms(v) for v in on["p99_us_runs"])
        + ")",
        "nothing measurable beside tracing off: on's best p99 within off's two runs (issue 28)",
        met(on["p99_us"] <= max(off["p99_us_runs"])),
        f"tracing off: p50 {ms(off['p50_us'])}, p99 {ms(off['p99_us'])} ("
        + ", ".join(ms(v) for v in off["p99_us_runs"])
        + ")",
    )

"""Percentiles and small result records."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def summary_us(samples_ns: Sequence[int]) -> dict[str, float]:
    """p50/p90/p99/p99.9/max/mean in microseconds, and the sample count."""
    ordered = sorted(samples_ns)
    n = len(ordered)

    def pct(q: float) -> float:
        return ordered[min(n - 1, int(q * n))] / 1000

    return {
        "n": n,
        "p50_us": pct(0.50),
        "p90_us": pct(0.90),
        "p99_us": pct(0.99),
        "p999_us": pct(0.999),
        "max_us": ordered[-1] / 1000,
        "mean_us": statistics.fmean(ordered) / 1000,
    }


def ms(us: float) -> str:
    """A latency for the report: milliseconds from 1 ms up, else microseconds."""
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.1f} µs"


def met(ok: bool) -> str:
    """A target's cell in the report."""
    return "yes" if ok else "**no**"

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

"""This machine's reference for Redis: redis-benchmark on the same server."""

from __future__ import annotations

import subprocess


def redis_benchmark(
    port: int, password: str, *, clients: int, requests: int = 100_000
) -> dict[str, float]:
    """redis-benchmark GET on the same Redis: requests/s and latency percentiles."""
    out = (
        subprocess.run(
            [
                "redis-benchmark",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "--user",
                "admin",
                "-a",
                password,
                "-t",
                "get",
                "-n",
                str(requests),
                "-c",
                str(clients),
                "--csv",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()
    )
    header = [h.strip('"') for h in out[0].split(",")]
    values = [v.strip('"') for v in out[1].split(",")]
    row = dict(zip(header, values, strict=True))
    return {
        "clients": clients,
        "requests_per_s": float(row["rps"]),
        "p50_us": float(row["p50_latency_ms"]) * 1000,
        "p99_us": float(row["p99_latency_ms"]) * 1000,
    }

"""This machine's reference tools: wrk for HTTP and redis-benchmark for Redis."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

_UNITS = {"us": 1.0, "ms": 1000.0, "s": 1_000_000.0}


def _micros(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        raise ValueError(f"unparsed wrk latency {text!r}")
    return float(match[1]) * _UNITS[match[2]]


def wrk(
    url: str, *, connections: int, seconds: int, script: Path | None = None, threads: int = 1
) -> dict[str, float]:
    """Fixed-concurrency HTTP load: requests/s and p50/p90/p99 latency (client side)."""
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk is missing: `make setup` installs Debian's package")
    argv = [binary, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if script is not None:
        argv += ["-s", str(script)]
    output = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    result: dict[str, float] = {"connections": connections, "seconds": seconds}
    for pct in ("50", "90", "99"):
        found = re.search(rf"^\s+{pct}%\s+(\S+)$", output, re.M)
        if found:
            result[f"p{pct}_us"] = _micros(found[1])
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    result["requests_per_s"] = float(rate[1]) if rate else 0.0
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non_2xx"] = float(errors[1]) if errors else 0.0
    return result


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


def lua_get_script(path: Path, isrcs: list[str], purpose: str, token: str) -> Path:
    table = ",".join(f'"{i}"' for i in isrcs)
    path.write_text(
        f"local isrcs = {{{table}}}\nlocal n = #isrcs\nlocal i = 0\n"
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
        "request = function()\n  i = i % n + 1\n"
        f'  return wrk.format("GET", "/v1/check?purpose={purpose}&isrc=" .. isrcs[i])\nend\n'
    )
    return path


def lua_batch_script(path: Path, bodies: list[str], token: str) -> Path:
    table = ",".join("[[" + b + "]]" for b in bodies)
    path.write_text(
        f"local bodies = {{{table}}}\nlocal n = #bodies\nlocal i = 0\n"
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {token}"\n'
        "request = function()\n  i = i % n + 1\n"
        '  return wrk.format(nil, "/v1/check", nil, bodies[i])\nend\n'
    )
    return path

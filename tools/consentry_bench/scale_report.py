"""The scale results as the markdown table the README shows: one column per size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MIB = 2**20

Row = tuple[str, Callable[[dict[str, Any]], str], str, Callable[[dict[str, Any]], bool] | None]


def _ms(us: float) -> str:
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.0f} µs"


def _per_million(n_bytes: float) -> float:
    return n_bytes * 1e6 / MIB


def _families(r: dict[str, Any]) -> str:
    fam = r["memory"]["after_tracks"]
    tracks = r["catalogue"]["tracks"]
    parts = [
        f"{name.replace('_', ' ')} {_per_million(f['bytes'] / tracks):.0f}"
        for name, f in fam.items()
        if f["bytes"]
    ]
    return ", ".join(parts)


def _writes(r: dict[str, Any]) -> str:
    if "writes" not in r:
        return "not measured"
    w = r["writes"]
    rates = " / ".join(f"{w[c]['per_s']:,.0f}" for c in ("8", "32", "64"))
    tails = " / ".join(_ms(w[c]["p99_us"]) for c in ("8", "32", "64"))
    return f"{rates} ({tails})"


def _bulk(r: dict[str, Any]) -> str:
    if "bulk_import" not in r:
        return "not measured"
    b = r["bulk_import"]
    return f"{b['new_per_s']:,.0f} ({b['reimport_per_s']:,.0f})"


def _fan(r: dict[str, Any]) -> dict[str, Any]:
    fan: dict[str, Any] = r["fan_out"]
    return fan


def _http_row(title: str, run: str, target: str, *, p99_limit_us: float) -> Row:
    """An open-loop HTTP run's row: client p99 (server p99), met when the client p99 is
    within ``p99_limit_us`` and 99.9 % of the requests succeeded -- one rule for every
    measured rate."""

    def show(r: dict[str, Any]) -> str:
        run_of = r["checks"][run]
        return f"{_ms(run_of['p99_us'])} ({_ms(run_of['server_p99_us'])})"

    def met(r: dict[str, Any]) -> bool:
        run_of = r["checks"][run]
        return bool(run_of["p99_us"] <= p99_limit_us and run_of["success"] >= 0.999)

    return title, show, target, met


ROWS: list[Row] = [
    (
        "tracks / decisions loaded",
        lambda r: f"{r['catalogue']['tracks']:,} / {r['catalogue']['decisions']:,}",
        "",
        None,
    ),
    (
        "Redis MiB per million tracks (INFO used_memory)",
        lambda r: f"{_per_million(r['memory']['bytes_per_track']):.0f}",
        "≤ 150",
        lambda r: _per_million(r["memory"]["bytes_per_track"]) <= 150,
    ),
    (
        "… of which, MiB per million tracks (MEMORY USAGE)",
        _families,
        "",
        None,
    ),
    (
        "Redis MiB per million decisions, with chain heads",
        lambda r: f"{_per_million(r['memory']['bytes_per_decision']):.0f}",
        "≤ 100",
        lambda r: _per_million(r["memory"]["bytes_per_decision"]) <= 100,
    ),
    (
        "enforcer's own store (not on the check path), MiB per million tracks",
        lambda r: f"{_per_million(r['enforcer']['store_bytes_per_track']):.0f}",
        "(reported beside)",
        None,
    ),
    (
        "materialiser, one worker: events/s to Redis (fully committed)",
        lambda r: (
            f"{r['materialiser']['events_per_s_to_redis']:,.0f} "
            f"({r['materialiser']['events_per_s_fully_committed']:,.0f})"
        ),
        "≥ 20,000",
        lambda r: r["materialiser"]["events_per_s_fully_committed"] >= 20_000,
    ),
    (
        "reference: plain aiokafka consumer, same topic (fetch only), records/s",
        lambda r: f"{r['plain_aiokafka']['records_per_s']:,.0f}",
        "",
        None,
    ),
    (
        "enforcer, own group: catalogue events/s",
        lambda r: f"{r['enforcer']['events_per_s']:,.0f}",
        "",
        None,
    ),
    (
        "SDK check through Redis, one track: p50 / p99",
        lambda r: (
            f"{_ms(r['checks']['sdk']['sdk_redis_one']['p50_us'])} / "
            f"{_ms(r['checks']['sdk']['sdk_redis_one']['p99_us'])}"
        ),
        "p99 ≤ 500 µs, p50 ≤ 3 GETs",
        lambda r: (
            r["checks"]["sdk"]["sdk_redis_one"]["p99_us"] <= 500
            and r["checks"]["sdk"]["sdk_redis_one"]["p50_us"]
            <= 3 * r["checks"]["python_get"]["p50_us"]
        ),
    ),
    (
        "reference: redis-py GET on the same replica: p50 / p99",
        lambda r: (
            f"{_ms(r['checks']['python_get']['p50_us'])} / "
            f"{_ms(r['checks']['python_get']['p99_us'])}"
        ),
        "",
        None,
    ),
    (
        "SDK batch of 100 through Redis: p50 / p99",
        lambda r: (
            f"{_ms(r['checks']['sdk']['sdk_redis_batch100']['p50_us'])} / "
            f"{_ms(r['checks']['sdk']['sdk_redis_batch100']['p99_us'])}"
        ),
        "p99 ≤ 1.5 ms",
        lambda r: r["checks"]["sdk"]["sdk_redis_batch100"]["p99_us"] <= 1500,
    ),
    _http_row(
        "HTTP one track at 2,000 req/s open loop: client p99 (server p99)",
        "http_single_2000",
        "p99 ≤ 5 ms",
        p99_limit_us=5000,
    ),
    _http_row(
        "HTTP batch of 100 at 200 req/s open loop: client p99 (server p99)",
        "http_batch_200",
        "p99 ≤ 10 ms",
        p99_limit_us=10_000,
    ),
    (
        "write API, single decisions of 5,000 parties: per s at 8 / 32 / 64 clients (p99)",
        _writes,
        "≥ 2,000/s at 32, no lower at 64 than at 8",
        lambda r: (
            "writes" in r
            and r["writes"]["32"]["per_s"] >= 2000
            and r["writes"]["64"]["per_s"] >= r["writes"]["8"]["per_s"]
        ),
    ),
    (
        "bulk import (10,000 a request, 2 in flight): new tracks/s acknowledged (re-import)",
        _bulk,
        "≥ 20,000",
        lambda r: "bulk_import" in r and r["bulk_import"]["new_per_s"] >= 20_000,
    ),
    (
        "one decision on 10,000 tracks: 202 after / all checks deny (with its token) after",
        lambda r: (
            f"{r['many']['accepted_ms']:,.0f} ms / {r['many']['checks_deny_after_202_ms']:,.0f} ms"
            if "many" in r
            else "not measured"
        ),
        "all or nothing, one token",
        lambda r: "many" in r and r["many"]["denied"] == r["many"]["works"],
    ),
    (
        "… every enforcement event out (missing, duplicates); its apply script held Redis",
        lambda r: (
            f"{r['many']['all_published_s'] or float('nan'):.1f} s "
            f"({r['many']['missing']:,} missing, {r['many']['duplicates']:,} duplicates); "
            f"{r['many']['apply_script_hold_ms']:,.0f} ms"
            if "many" in r
            else "not measured"
        ),
        "none missing",
        lambda r: "many" in r and r["many"]["missing"] == 0,
    ),
    (
        "label-wide opt-out: the label's tracks / changes expected",
        lambda r: f"{_fan(r)['label_tracks']:,} / {_fan(r)['expected_changes']:,}",
        "",
        None,
    ),
    (
        "… checks deny after the 202: p50 / p99 (the primary applied it after)",
        lambda r: (
            f"{_ms(_fan(r)['checks_deny_after_202']['p50_us'])} / "
            f"{_ms(_fan(r)['checks_deny_after_202']['p99_us'])}"
            + (
                f" ({_fan(r)['applied_after_202_ms']:,.0f} ms)"
                if "applied_after_202_ms" in _fan(r)
                else ""
            )
        ),
        "p99 ≤ 100 ms",
        lambda r: (
            _fan(r)["checks_deny_after_202"]["p99_us"] <= 100_000
            and _fan(r)["denied_in_sample"] == _fan(r)["sampled_tracks"]
        ),
    ),
    (
        "… every enforcement event published: seconds (missing, duplicates)",
        lambda r: (
            f"{_fan(r)['all_published_s'] or float('nan'):.1f} s "
            f"({_fan(r)['missing']:,} missing, {_fan(r)['duplicates']:,} duplicates)"
        ),
        "≤ 60 s, none missing",
        lambda r: _fan(r)["missing"] == 0 and (_fan(r)["all_published_s"] or 1e9) <= 60,
    ),
    (
        "… apply rate during the fan-out / idle",
        lambda r: (
            f"{_fan(r)['apply_during_fan_out_per_s']:,.0f} / "
            f"{_fan(r)['apply_idle_per_s']:,.0f} events/s ({_fan(r)['apply_ratio']:.0%})"
        ),
        "≥ 80%",
        lambda r: _fan(r)["apply_ratio"] >= 0.8,
    ),
    (
        "rebuild after Redis is flushed: seconds per million tracks",
        lambda r: (
            f"{r['rebuild_s'] * 1e6 / r['catalogue']['tracks']:.1f} s "
            f"({r['rebuild_s']:.0f} s in all)"
        ),
        "(stated)",
        None,
    ),
]


def markdown(results: dict[str, Any]) -> str:
    sizes = results["sizes"]
    names = [f"{int(s):,} tracks" for s in sizes]
    lines = [
        f"Measured {results['finished_at']}; one stack per size on this machine (2 cores), "
        "checks on a Redis read replica. A figure's verdict is given per size.",
        "",
        "| figure | " + " | ".join(names) + " | target |",
        "|---|" + "---|" * len(names) + "---|",
    ]
    for title, show, target, met in ROWS:
        cells = []
        for r in sizes.values():
            cell = show(r)
            if met is not None:
                cell += " ✓" if met(r) else " ✗"
            cells.append(cell)
        lines.append(f"| {title} | " + " | ".join(cells) + f" | {target} |")
    return "\n".join(lines) + "\n"

"""Results as JSON and as the markdown table the README shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from consentry_bench import manifests, signing, tracing, writes
from consentry_bench.fairness import BOUND_MS
from consentry_bench.stats import met, ms


def rows(r: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    sdk, ref, http, prop = r["sdk"], r["reference"], r["http"], r["propagation"]["from_request"]
    low, sat, bat = http["single_2000"], http["single_saturation"], http["batch_200"]
    sat2, bare2 = http["two_workers_single_saturation"], http["two_workers_bare_saturation"]
    hit, one, batch = sdk["sdk_cache_hit"], sdk["sdk_redis_one"], sdk["sdk_redis_batch100"]
    get = ref["python_get"]
    rb1 = ref["redis_benchmark_c1"]
    bare = http["bare_saturation"]
    mat = r["materialiser"]
    w = r["writes"]
    mem = r["memory"]
    feed = r["feed"]["from_acknowledgement"]
    pr = r["portal"]
    er = r["ern"]
    us = r["usage"]
    pw, ps, ph = pr["portal_works_first_page"], pr["portal_works_search"], pr["portal_history"]
    pa, pq, pf = (
        pr["api_works_first_page"],
        pr["api_works_title_search"],
        pr["reference_http_healthz"],
    )
    return [
        (
            "propagation: opt-out POST → caching SDK denies",
            f"p50 {ms(prop['p50_us'])}, p99 {ms(prop['p99_us'])}, max {ms(prop['max_us'])} "
            f"(n={prop['n']})",
            "p50 ≤ 20 ms, p99 ≤ 100 ms, p99.9 ≤ 250 ms",
            met(
                prop["p50_us"] <= 20_000 and prop["p99_us"] <= 100_000 and prop["max_us"] <= 250_000
            ),
            "SpiceDB 5 s window; OPA 60–120 s polling",
        ),
        (
            "SDK check, cache hit",
            f"p50 {ms(hit['p50_us'])}, p99 {ms(hit['p99_us'])}; "
            f"{hit['checks_per_s_one_core']:,.0f} checks/s",
            "p99 ≤ 10 µs; ≥ 200k/s per core",
            met(hit["p99_us"] <= 10 and hit["checks_per_s_one_core"] >= 200_000),
            f"redis-py GET p50 {ms(get['p50_us'])} "
            f"(a hit is {get['p50_us'] / hit['p50_us']:.0f}× faster)",
        ),
        (
            "SDK check through Redis, one track",
            f"p50 {ms(one['p50_us'])}, p99 {ms(one['p99_us'])}",
            "p99 ≤ 500 µs",
            met(one["p99_us"] <= 500),
            f"redis-py GET p50 {ms(get['p50_us'])}, p99 {ms(get['p99_us'])} "
            f"(check = {one['p50_us'] / get['p50_us']:.1f}× a GET); "
            f"redis-benchmark c=1 p50 {ms(rb1['p50_us'])}",
        ),
        (
            "SDK batch of 100 tracks through Redis",
            f"p50 {ms(batch['p50_us'])}, p99 {ms(batch['p99_us'])}",
            "p99 ≤ 1.5 ms",
            met(batch["p99_us"] <= 1500),
            f"{batch['p50_us'] / get['p50_us']:.1f}× one redis-py GET for 100 answers",
        ),
        (
            "HTTP check, one track, open loop at 2,000 req/s",
            f"client p50 {ms(low['p50_us'])}, p99 {ms(low['p99_us'])}; server p50 "
            f"{ms(low['server_p50_us'])}, p99 {ms(low['server_p99_us'])}; "
            f"{low['success']:.2%} answered",
            "p99 ≤ 5 ms at 2,000 req/s",
            met(low["p99_us"] <= 5000 and low["success"] >= 0.999),
            f"bare endpoint, same server: {bare['rate']:,} req/s held",
        ),
        (
            "HTTP check, one track, saturation (open loop: highest rate held in full)",
            f"1 worker: {sat['rate']:,} req/s; 2 workers: {sat2['rate']:,} req/s",
            "≥ 60% of a bare endpoint on the same server (DESIGN §4: the ratio, as the "
            "absolute rate moves with the machine)",
            met(
                any(
                    reference["rate"] > 0 and ours["rate"] >= 0.6 * reference["rate"]
                    for ours, reference in ((sat, bare), (sat2, bare2))
                )
            ),
            f"bare endpoint: 1 worker {_against(sat, bare)}, 2 workers {_against(sat2, bare2)}",
        ),
        (
            "HTTP check, batch of 100, open loop at 200 req/s",
            f"client p50 {ms(bat['p50_us'])}, p99 {ms(bat['p99_us'])}; server p50 "
            f"{ms(bat['server_p50_us'])}, p99 {ms(bat['server_p99_us'])}",
            "p99 ≤ 10 ms at 200 req/s",
            met(bat["p99_us"] <= 10_000 and bat["success"] >= 0.999),
            "",
        ),
        *writes.rows(w),
        (
            "materialiser, one worker (catalogue load; enforcement in its own group)",
            f"{mat['events_per_s_to_redis']:,.0f} events/s to Redis; "
            f"{mat['events_per_s_fully_committed']:,.0f} events/s fully committed",
            "≥ 20,000 events/s",
            met(mat["events_per_s_to_redis"] >= 20_000),
            f"plain aiokafka consumer on the same topic: "
            f"{r['plain_aiokafka']['records_per_s']:,.0f} records/s (fetch only); enforcer "
            f"{r['enforcer']['events_per_s']:,.0f} events/s in its own group",
        ),
        (
            "data-set filter (manifest shuffled, 1 % unknown ISRCs)",
            f"{r['downstream']['isrcs_per_s']:,.0f} ISRCs/s over "
            f"{r['downstream']['manifest']:,}; snapshot of every denied track: "
            f"{r['downstream']['snapshot_tracks_per_s']:,.0f} tracks/s scanned",
            "≥ 100,000 ISRCs/s",
            met(r["downstream"]["isrcs_per_s"] >= 100_000),
            f"one SDK check per track: {r['downstream']['one_check_per_track_per_s']:,.0f}/s",
        ),
        (
            "change feed: opt-out 202 → change at a following consumer",
            f"p50 {ms(feed['p50_us'])}, p99 {ms(feed['p99_us'])}, max {ms(feed['max_us'])} "
            f"(n={feed['n']})",
            "(issue 15: report it)",
            "—",
            f"checks deny after p50 {ms(prop['p50_us'])} (propagation above)",
        ),
        (
            "portal: a 100,000-track label's works, first page (signed-in browser session)",
            f"p50 {ms(pw['p50_us'])}, p99 {ms(pw['p99_us'])}; title search p50 "
            f"{ms(ps['p50_us'])}; history p50 {ms(ph['p50_us'])}",
            "first page ≤ 300 ms",
            met(pw["p99_us"] <= 300_000),
            f"works API alone p50 {ms(pa['p50_us'])} (search {ms(pq['p50_us'])}); "
            f"an HTTP /healthz p50 {ms(pf['p50_us'])}",
        ),
        (
            f"ERN import: a {er['messages']:,}-release DDEX 4.3.2 delivery "
            f"({er['tracks']:,} tracks, {er['megabytes']:,} MB), one `import-ern` run",
            f"{er['new_tracks_per_s']:,.0f} tracks/s ({er['new_s']} s); delivered again "
            f"(all unchanged) {er['reimport_tracks_per_s']:,.0f} tracks/s",
            "≥ 10,000 tracks/s (issue 24)",
            met(er["new_tracks_per_s"] >= 10_000),
            f"the same tracks as JSON through /v1/tracks/import: "
            f"{er['json']['new_per_s']:,.0f} tracks/s; the delivery only read (no sending): "
            f"{er['read_tracks_per_s']:,.0f} tracks/s",
        ),
        (
            f"usage ingestion: {us['ingestion']['reports']} reports of 1,000 uses, one meter "
            "worker (judged as of each use's moment, counted exactly once)",
            f"{us['ingestion']['meter_uses_per_s']:,} uses/s",
            "≥ 100,000 uses/s (issue 25)",
            met(us["ingestion"]["meter_uses_per_s"] >= 100_000),
            f"a plain aiokafka consumer reading and decoding the same reports: "
            f"{us['ingestion']['plain_consumer_uses_per_s']:,} uses/s",
        ),
        (
            "a month's revenue statements from the logs (two pools)",
            f"{us['statement']['total_s']} s ({us['statement']['read_s']} s reading "
            f"{us['statement']['log_records']:,} log and {us['statement']['usage_records']:,} "
            f"usage records, {us['statement']['settle_s']} s settling)",
            "≤ 60 s at 1M tracks (issue 25)",
            _at_scale(us.get("statement_at_scale")),
            f"{r['catalogue']['tracks']:,} tracks here",
        ),
        (
            "SDK cache-hit check while reporting every check as a use",
            f"p50 {ms(us['check']['reporting']['p50_us'])}, "
            f"p99 {ms(us['check']['reporting']['p99_us'])} "
            f"({us['check']['reported']:,} reported, {us['check']['dropped']:,} dropped)",
            "no measurable change to the cache-hit p99 (issue 25); held here: within 1 µs",
            met(us["check"]["reporting"]["p99_us"] <= us["check"]["alone"]["p99_us"] + 1),
            f"the same loop not reporting: p50 {ms(us['check']['alone']['p50_us'])}, "
            f"p99 {ms(us['check']['alone']['p99_us'])}",
        ),
        (
            "a flood from one principal (8 connections at the check fast path, limited) "
            "beside another principal's checks",
            f"victim p99 {ms(r['fairness']['during']['p99_us'])} during "
            f"{r['fairness']['flood']['sent']:,} flood requests "
            f"({r['fairness']['flood']['refused_429']:,} answered 429)",
            f"≤ alone + {BOUND_MS:.0f} ms (issue 26)",
            met(
                r["fairness"]["during"]["p99_us"]
                <= r["fairness"]["alone"]["p99_us"] + BOUND_MS * 1000
            ),
            f"the victim alone: p99 {ms(r['fairness']['alone']['p99_us'])}",
        ),
        manifests.row(r["manifests"]),
        signing.row(r["signatures"]),
        tracing.row(r["tracing"]),
        (
            "rebuild: Redis flushed → state whole again from Kafka",
            f"{r['rebuild_s']:.1f} s for {r['catalogue']['tracks']:,} tracks and "
            f"{r['catalogue']['decisions']:,} decisions",
            "(issue 7: state it)",
            "—",
            "checks answer unverifiable (deny) meanwhile",
        ),
        (
            "Redis memory",
            f"{mem['bytes_per_decision'] * 1e6 / 2**20:,.0f} MiB per million decisions; "
            f"{mem['bytes_per_track'] * 1e6 / 2**20:,.0f} MiB per million tracks",
            "≤ 100 MB per million decisions",
            met(mem["bytes_per_decision"] * 1e6 <= 100e6),
            "Redis FAQ: 1M small hashes ≈ 160 MB",
        ),
    ]


def markdown(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [
        f"Measured {r['finished_at']} on {m['cores']} cores, Python {m['python']}, "
        f"Kafka {m['kafka']}, Redis {m['redis']}; {r['catalogue']['tracks']:,} tracks, "
        f"{r['catalogue']['decisions']:,} decisions. HTTP figures come from vegeta at a fixed "
        "arrival rate (open loop, same machine), client-side beside the service's own "
        "server-side histogram; SDK figures are in-process, closed loop.",
        "",
        "| figure | measured | target (DESIGN §4) | met | reference, same run |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows(r)]
    return "\n".join(lines) + "\n"


def _at_scale(found: dict[str, Any] | None) -> str:
    """The statement's target, from ``make bench-statement``'s last run, if any."""
    if found is None:
        return "at 1M: not measured (`make bench-statement`)"
    took = found["statement"]["total_s"]
    return f"{met(took <= 60)} at {found['tracks']:,} tracks: {took} s (`make bench-statement`)"


def write(results: dict[str, Any], directory: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    at_scale = directory / "statement_scale.json"
    if at_scale.exists() and "usage" in results:
        results["usage"]["statement_at_scale"] = json.loads(at_scale.read_text())
    (directory / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    (directory / "results.md").write_text(table)
    plot_propagation(results, directory / "propagation.png")
    return table


def plot_propagation(results: dict[str, Any], path: Path) -> None:
    """Each opt-out's lag in run order, and the lags sorted: the picture the README shows."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = results["propagation"]["samples_ms"]
    summary = results["propagation"]["from_request"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    left.plot(range(1, len(samples) + 1), samples, ".", markersize=4)
    for name, colour in (("p50", "tab:green"), ("p99", "tab:orange")):
        left.axhline(summary[f"{name}_us"] / 1000, color=colour, linestyle="--", label=name)
    left.axhline(100, color="tab:red", linewidth=1, label="p99 target (100 ms)")
    left.set(
        xlabel="opt-out, in order",
        ylabel="ms until a caching SDK denies",
        title="Propagation of each opt-out",
    )
    left.legend()
    ordered = sorted(samples)
    share = [100 * (i + 1) / len(ordered) for i in range(len(ordered))]
    right.plot(ordered, share)
    right.set(xlabel="ms", ylabel="% of opt-outs enforced within", title="Cumulative", xscale="log")
    right.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    right.grid(True, which="both", alpha=0.3)
    figure.suptitle(
        f"{len(samples)} opt-outs through the write API, {results['catalogue']['tracks']:,} "
        f"tracks loaded, {results['machine']['cores']} cores ({results['finished_at']})"
    )
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _against(ours: dict[str, Any], bare: dict[str, Any]) -> str:
    """The bare endpoint's rate and ours as a share of it; no share without a rate."""
    if bare["rate"] == 0:
        return "no rate held in full down to 100 req/s (no reference)"
    return f"{bare['rate']:,} req/s ({ours['rate'] / bare['rate']:.0%})"

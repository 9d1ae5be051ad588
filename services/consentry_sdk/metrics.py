"""Check-side metrics. Counting costs the cache-hit path nothing: the checker keeps plain
counters and ``CheckerCollector`` turns them into Prometheus samples at scrape time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from consentry_sdk.checker import ConsentChecker

REDIS_SECONDS = Histogram(
    "consentry_check_redis_seconds",
    "Time to read a check or batch from Redis (cache misses; includes a token's wait).",
    ["kind"],
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5),
)
REDIS_SINGLE = REDIS_SECONDS.labels(kind="single")
REDIS_BATCH = REDIS_SECONDS.labels(kind="batch")


HEARTBEAT_AGE = Gauge(
    "consentry_check_materialiser_heartbeat_age_seconds",
    "Age of the materialiser heartbeat the check side reads in Redis (+Inf when absent).",
)
REDIS_UP = Gauge("consentry_check_redis_up", "1 when the check side reaches Redis.")


class CheckerCollector(Collector):
    def __init__(self, checker: ConsentChecker) -> None:
        self._checker = checker

    def collect(self) -> Iterator[Metric]:
        checks = CounterMetricFamily(
            "consentry_checks",
            "Answers given, by purpose and answer (allow, deny, pending, unverifiable).",
            labels=["purpose", "answer"],
        )
        for (purpose, answer), count in sorted(self._checker.answer_counts.items()):
            checks.add_metric([purpose, str(answer)], count)
        yield checks
        cache = self._checker.cache
        hits = CounterMetricFamily("consentry_check_cache_hits", "Answers served from cache.")
        misses = CounterMetricFamily("consentry_check_cache_misses", "Cache lookups that missed.")
        drops = CounterMetricFamily(
            "consentry_check_cache_invalidations", "Invalidation tags received from Redis."
        )
        live = GaugeMetricFamily(
            "consentry_check_cache_subscribed", "1 while the invalidation channel is live."
        )
        hits.add_metric([], cache.hits if cache else 0)
        misses.add_metric([], cache.misses if cache else 0)
        drops.add_metric([], cache.invalidations if cache else 0)
        live.add_metric([], 1 if cache and cache.live else 0)
        yield from (hits, misses, drops, live)

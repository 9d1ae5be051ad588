"""The portal's page timings on the loaded bench catalogue, for a label with 100,000
tracks (10,000 releases, titled) added to it: the works API's first page and a title
search, and the portal's pages served to a signed-in browser session (HTTP, server
side rendering included), each beside the check service's ``/readyz`` on the same
machine as the floor of an HTTP round trip."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
from redis.asyncio import Redis

from consentry_bench.measure import produce, wait_group_caught_up, wait_watermarks
from consentry_bench.stats import summary_us
from consentry_enforcer.settings import GROUP as ENFORCER
from consentry_events import TrackChanged
from consentry_stack.stack import Stack

LABEL = "label:portal-bench"
TRACKS = 100_000
PER_RELEASE = 10


def _tracks() -> Iterator[TrackChanged]:
    now = datetime.now(UTC)
    for i in range(TRACKS):
        release = i // PER_RELEASE
        yield TrackChanged(
            isrc=f"ZZPOR{i:07d}",
            upc=f"{7_000_000_000_000 + release}",
            parties=(f"artist:portal-{i // 20}", LABEL),
            recorded_at=now,
            title=f"Portal track {i}",
            release_title=f"Portal release {release}",
        )


def _timed(call: Callable[[], httpx.Response], samples: int) -> dict[str, float]:
    durations = []
    for _ in range(samples):
        started = time.perf_counter_ns()
        response = call()
        durations.append(time.perf_counter_ns() - started)
        assert response.status_code == 200, response.text[:300]
    return summary_us(durations)


async def load_label(stack: Stack) -> float:
    """Produce the label's tracks; seconds until applied and indexed by the enforcer."""
    started = time.monotonic()
    marks = await produce(stack.kafka.bootstrap, stack.event_signing_key, _tracks())
    client = Redis.from_url(stack.redis.url)
    try:
        await wait_watermarks(client, marks)
    finally:
        await client.aclose()
    await wait_group_caught_up(stack.kafka.bootstrap, ENFORCER)
    return time.monotonic() - started


def page_timings(stack: Stack, samples: int = 50) -> dict[str, Any]:
    works = f"{stack.write_url}/v1/parties/{LABEL}/works"
    headers = stack.bearer(LABEL)
    with httpx.Client(timeout=30) as api, httpx.Client(timeout=30) as browser:
        first_api = _timed(lambda: api.get(works, headers=headers), samples)
        search_api = _timed(
            lambda: api.get(works, headers=headers, params={"q": "Portal track 99999"}), 10
        )
        signed_in = browser.get(stack.login_link(LABEL), follow_redirects=True)
        assert signed_in.status_code == 200, signed_in.text[:300]
        portal = stack.portal_url
        first_page = _timed(lambda: browser.get(f"{portal}/works"), samples)
        search_page = _timed(
            lambda: browser.get(f"{portal}/works", params={"q": "release 9999"}), 10
        )
        history = _timed(lambda: browser.get(f"{portal}/history"), samples)
        floor = _timed(lambda: api.get(f"{stack.check_url}/healthz"), samples)
    return {
        "label_tracks": TRACKS,
        "api_works_first_page": first_api,
        "api_works_title_search": search_api,
        "portal_works_first_page": first_page,
        "portal_works_search": search_page,
        "portal_history": history,
        "reference_http_healthz": floor,
    }

"""A real Prometheus scraping the session stack: every dashboard query and alert has data."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from aiokafka import AIOKafkaProducer

from consentry_events import CONSENT_CHANGES
from consentry_stack import dashboard
from consentry_stack.prometheus import DEPLOY, PrometheusServer
from consentry_stack.stack import Stack
from tests.support.eventually import eventually
from tests.support.http import ADMIN, await_answer, check, decide, register
from tests.support.ids import new_isrc, new_party, new_upc

RULES = yaml.safe_load((DEPLOY / "rules" / "consentry.yml").read_text())["groups"]
RECORDED = [r["record"] for g in RULES for r in g["rules"] if "record" in r]
ALERTS = {r["alert"]: r["expr"] for g in RULES for r in g["rules"] if "alert" in r}
_COMPARISON = re.compile(r"\s*(>|<|>=|<=|==|!=)\s*[\d.]+\s*$")


def signals(expr: str) -> list[str]:
    """``a > 1 and b > 2`` -> ``[a, b]``: what each alert compares, to be checked for data."""
    return [_COMPARISON.sub("", part) for part in expr.split(" and ")]


@pytest.fixture(scope="module")
def prometheus(stack: Stack) -> Iterator[PrometheusServer]:
    server = stack.start_prometheus()
    yield server
    server.stop()
    stack.prometheus = None


def query(server: PrometheusServer, expr: str) -> list[Any]:
    response = httpx.get(f"{server.url}/api/v1/query", params={"query": expr}, timeout=5)
    assert response.status_code == 200, f"not valid PromQL: {expr}: {response.text}"
    body = response.json()
    assert body["status"] == "success", body
    result: list[Any] = body["data"]["result"]
    return result


def traffic(stack: Stack) -> None:
    httpx.put(
        f"{stack.write_url}/v1/downstream-systems/observed",
        json={"purposes": ["ai"], "deadline_s": 3600},
        headers=stack.bearer(ADMIN),
        timeout=10,
    ).raise_for_status()
    artist, isrc = new_party(), new_isrc()
    register(stack, isrc, new_upc(), [artist])
    await_answer(stack, isrc, "ai.training", "allow")
    decide(stack, artist, "ai.training", "deny", "party")
    await_answer(stack, isrc, "ai.training", "deny")
    httpx.post(f"{stack.write_url}/v1/decisions", json={"party": "x"}, headers=stack.bearer(ADMIN))
    for _ in range(20):
        check(stack, isrc, "ai.dj")

    async def garbage() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=stack.kafka.bootstrap, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(CONSENT_CHANGES.name, b"{not json", key=b"artist:x")
        finally:
            await producer.stop()

    asyncio.run(garbage())


def test_every_panel_and_alert_has_data_in_a_live_prometheus(
    stack: Stack, prometheus: PrometheusServer
) -> None:
    traffic(stack)
    expressions = [*dashboard.queries(), *RECORDED]
    expressions += [s for expr in ALERTS.values() for s in signals(expr)]
    for expr in ALERTS.values():
        query(prometheus, expr)  # the whole alert expression is valid PromQL
    missing = set(expressions)

    def every_series_found() -> bool:
        nonlocal missing
        traffic(stack)
        missing = {expr for expr in missing if not query(prometheus, expr)}
        return not missing

    eventually(every_series_found, 60, f"series for every expression (missing: {missing})", 1)
    lags = query(prometheus, "consentry_canary_last_lag_seconds")
    assert {r["metric"]["path"] for r in lags} == {"http", "sdk"}


def alert_state(server: PrometheusServer, name: str) -> str | None:
    alerts = httpx.get(f"{server.url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    states = [a["state"] for a in alerts if a["labels"]["alertname"] == name]
    return states[0] if states else None


def test_stopping_the_materialiser_makes_the_heartbeat_alert_pending(
    stack: Stack, prometheus: PrometheusServer
) -> None:
    assert alert_state(prometheus, "ConsentryMaterialiserHeartbeatStale") is None
    stack.services["materialiser"].stop()
    try:
        state = eventually(
            lambda: alert_state(prometheus, "ConsentryMaterialiserHeartbeatStale"),
            40,
            "the heartbeat alert pending",
            poll_s=0.5,
        )
        assert state in {"pending", "firing"}
        isrc = new_isrc()
        answer = check(stack, isrc, "ai.training")
        assert [r["basis"] for r in answer["reasons"]] == ["unverifiable"]
    finally:
        stack.services["materialiser"] = stack.materialiser()
        stack.services["materialiser"].start()
    artist, isrc = new_party(), new_isrc()
    register(stack, isrc, new_upc(), [artist])
    await_answer(stack, isrc, "ai.training", "allow", timeout_s=60)

"""One opt-out followed across the stack's processes by its trace: the write API's
request, the record's way through Kafka, the materialiser's apply (the moment the checks
enforce it) and the enforcer's change feed, then a check in the same trace -- each span
the child of the one before it, as the stack's OTLP collector received them."""

from __future__ import annotations

import asyncio
import secrets

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from consentry_events import CONSENT_CHANGES, ENFORCEMENT
from consentry_stack.stack import Stack
from consentry_stack.traces import Span
from tests.support.eventually import eventually
from tests.support.http import SERVICE, register
from tests.support.ids import new_isrc, new_party, new_upc


def _traceparent(trace_id: str, span_id: str, sampled: bool = True) -> str:
    return f"00-{trace_id}-{span_id}-{'01' if sampled else '00'}"


def _one(spans: list[Span], service: str, name: str) -> Span:
    """The span of a handling that finished: a batch tried again while the state had not
    applied it yet leaves a span of its own, with an error status and no outcome."""
    done = [s for s in spans if s.service == service and s.name == name and not s.error]
    assert len(done) == 1, spans
    return done[0]


def test_one_opt_out_is_followed_from_its_request_to_the_change_feed(stack: Stack) -> None:
    assert stack.traces is not None
    isrc, party = new_isrc(), new_party()
    register(stack, isrc, new_upc(), [party])
    trace_id, caller = secrets.token_hex(16), secrets.token_hex(8)
    body = {"party": party, "purpose": "ai.training", "choice": "deny", "scope": "party"}
    response = httpx.post(
        f"{stack.write_url}/v1/decisions",
        json=body,
        headers={**stack.bearer(party), "traceparent": _traceparent(trace_id, caller)},
        timeout=15,
    )
    assert response.status_code == 202, response.text

    def whole() -> list[Span] | None:
        spans = stack.traces.trace(trace_id) if stack.traces else []
        finished = {s.service for s in spans if not s.error}
        wanted = {"consentry-writeapi", "consentry-materialiser", "consentry-enforcer"}
        return spans if wanted <= finished else None

    spans = eventually(whole, 20.0, "the opt-out's spans from the three services")
    request = _one(spans, "consentry-writeapi", "POST /v1/decisions")
    assert request.kind == "server"
    assert request.parent_span_id == caller, "the caller's trace goes on"
    assert request.attributes["http.response.status_code"] == 202
    applied = _one(spans, "consentry-materialiser", "consentry.materialise")
    enforced = _one(spans, "consentry-enforcer", "consentry.enforce")
    for consumer in (applied, enforced):
        assert consumer.kind == "consumer"
        assert consumer.parent_span_id == request.span_id, "a child of the request's span"
        assert consumer.attributes["messaging.destination.name"] == CONSENT_CHANGES.name
        assert consumer.start_ns >= request.start_ns
    assert enforced.attributes["consentry.changes_published"] >= 1, "the track's answer changed"
    assert enforced.end_ns >= applied.end_ns, "enforced once the state held it"
    # The change feed's record of the track carries the enforcer's span on.
    feed = asyncio.run(_feed_traceparents(stack.kafka.bootstrap, f"{isrc}|ai.training"))
    assert f"00-{trace_id}-{enforced.span_id}-01" in feed

    checker = secrets.token_hex(8)
    answer = httpx.get(
        f"{stack.check_url}/v1/check",
        params={"isrc": isrc, "purpose": "ai.training", "token": response.json()["token"]},
        headers={**stack.bearer(SERVICE), "traceparent": _traceparent(trace_id, checker)},
        timeout=5,
    ).json()
    assert answer["answer"] == "deny"

    traces = stack.traces

    def checked() -> Span | None:
        found = [s for s in traces.trace(trace_id) if s.service == "consentry-checkapi"]
        return found[0] if found else None

    check = eventually(checked, 20.0, "the check's span")
    assert check.parent_span_id == checker
    assert check.name == "GET /v1/check"


def test_an_unsampled_request_leaves_no_span(stack: Stack) -> None:
    assert stack.traces is not None
    isrc, party = new_isrc(), new_party()
    register(stack, isrc, new_upc(), [party])
    trace_id = secrets.token_hex(16)
    response = httpx.post(
        f"{stack.write_url}/v1/decisions",
        json={"party": party, "purpose": "ai.dj", "choice": "deny", "scope": "party"},
        headers={
            **stack.bearer(party),
            "traceparent": _traceparent(trace_id, secrets.token_hex(8), sampled=False),
        },
        timeout=15,
    )
    assert response.status_code == 202
    # A sampled request sent after it is exported; by then this one would have been too.
    test_one_opt_out_is_followed_from_its_request_to_the_change_feed(stack)
    assert stack.traces.trace(trace_id) == []


async def _feed_traceparents(bootstrap: str, key: str) -> list[str]:
    """The ``traceparent`` headers of the change feed's records keyed ``key``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(ENFORCEMENT.name, p) for p in range(ENFORCEMENT.partitions)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        found: list[str] = []

        async def behind() -> bool:
            return any([await consumer.position(tp) < end for tp, end in ends.items()])

        while await behind():
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found += [
                    value.decode()
                    for r in records
                    if r.key == key.encode()
                    for name, value in r.headers
                    if name == "traceparent"
                ]
        return found
    finally:
        await consumer.stop()

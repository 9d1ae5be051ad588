"""Bad input changes nothing: oversized and malformed requests, schema fuzzing of the
write API, and garbage records published straight to the real topics."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from consentry_events import CATALOGUE, CONSENT_CHANGES, Choice, DecodeError, Scope, decode, encode
from consentry_stack.stack import Stack
from consentry_state import StoredState
from tests.support.events import decision_event
from tests.support.ids import new_party
from tests.support.log import Marks, dead_letters
from tests.support.state import wait_applied


def _history(stack: Stack, party: str) -> list[Any]:
    response = httpx.get(
        f"{stack.write_url}/v1/parties/{party}/history", headers=stack.bearer(party), timeout=15
    )
    decisions: list[Any] = response.json()["decisions"]
    return decisions


def test_an_oversized_body_is_413_and_changes_nothing(stack: Stack) -> None:
    party = new_party()
    body = {"party": party, "purpose": "ai", "choice": "deny", "scope": "party"}
    padded = json.dumps(body)[:-1] + ', "padding": "' + "x" * 20_000 + '"}'
    headers = {**stack.bearer(party), "content-type": "application/json"}
    declared = httpx.post(
        f"{stack.write_url}/v1/decisions", content=padded, headers=headers, timeout=15
    )
    assert declared.status_code == 413, declared.text
    assert declared.json()["detail"]["reason"] == "too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        data = padded.encode()
        for at in range(0, len(data), 4096):
            yield data[at : at + 4096]

    streamed = httpx.post(
        f"{stack.write_url}/v1/decisions", content=chunks(), headers=headers, timeout=15
    )
    assert streamed.status_code == 413, streamed.text
    assert streamed.json()["detail"]["reason"] == "too_large"
    assert _history(stack, party) == []


def test_the_import_takes_a_larger_body_up_to_its_own_limit(stack: Stack) -> None:
    headers = {**stack.bearer("catalogue:tests"), "content-type": "application/json"}
    item = {"isrc": "ZZ", "upc": "1", "parties": ["artist:" + "x" * 60]}
    medium = json.dumps({"tracks": [item] * 500})  # ~45 kB: over the default 16 kB
    taken = httpx.post(
        f"{stack.write_url}/v1/tracks/import", content=medium, headers=headers, timeout=15
    )
    assert taken.status_code == 200, taken.text
    assert len(taken.json()["refused"]) == 500
    huge = json.dumps({"tracks": [item] * 200_000})  # ~18 MB: over the import's 16 MiB
    refused = httpx.post(
        f"{stack.write_url}/v1/tracks/import", content=huge, headers=headers, timeout=30
    )
    assert refused.status_code == 413, refused.text
    assert refused.json()["detail"]["reason"] == "too_large"


def _invalid(raw: bytes) -> bool:
    try:
        decode(raw)
    except DecodeError:
        return True
    return False


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _dumps(value: object) -> bytes:
    return json.dumps(value).encode()  # any size of integer; 'Infinity' too


_valid = json.loads(
    encode(decision_event("artist:garbage", "ai.training", Choice.DENY, Scope.PARTY))
)
_mutated = st.builds(
    lambda field, value: _dumps({**_valid, field: value}),
    st.sampled_from([*sorted(_valid), "unexpected"]),
    _json,
)
GARBAGE = st.one_of(st.binary(max_size=300), _json.map(_dumps), _mutated).filter(_invalid)
_KEY = st.binary(min_size=1, max_size=24)
RECORDS = st.lists(
    st.tuples(st.just(CONSENT_CHANGES.name), st.none() | _KEY, GARBAGE)
    # the broker itself refuses a keyless record on the compacted catalogue topic
    | st.tuples(st.just(CATALOGUE.name), _KEY, GARBAGE),
    min_size=1,
    max_size=30,
)


@given(records=RECORDS)
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_garbage_records_dead_letter_and_the_stream_goes_on(
    stack: Stack, records: list[tuple[str, bytes | None, bytes]]
) -> None:
    asyncio.run(_garbage_then_valid(stack, records))


async def _garbage_then_valid(stack: Stack, records: list[tuple[str, bytes | None, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka.bootstrap, acks="all")
    await producer.start()
    sources: set[str] = set()
    marks: Marks = {}
    parties: dict[str, str] = {}
    signer = stack.event_signer()  # signed garbage: the decoder is what it meets
    try:
        for topic, key, value in records:
            [headers] = signer.sign(topic, [(key, value)])
            meta = await producer.send_and_wait(topic, value, key=key, headers=headers)
            sources.add(f"{meta.topic}:{meta.partition}:{meta.offset}")
        # After the garbage, on every partition it reached, a valid decision.
        for source in sorted(sources):
            topic, partition, _ = source.split(":")
            party = new_party()
            event = decision_event(party, "ai.training", Choice.DENY, Scope.PARTY)
            value = encode(event)
            [headers] = signer.sign(CONSENT_CHANGES.name, [(party.encode(), value)])
            meta = await producer.send_and_wait(
                CONSENT_CHANGES.name,
                value,
                key=party.encode(),
                partition=int(partition),
                headers=headers,
            )
            marks[(meta.topic, meta.partition)] = meta.offset
            parties[party] = f"{meta.partition}:{meta.offset}"
    finally:
        await producer.stop()
    redis = Redis.from_url(stack.redis.url)
    try:
        await wait_applied(redis, marks)
        stored = StoredState(redis)
        for party in parties:
            assert len(await stored.party_slots(party)) == 1, f"{party} was not applied"
    finally:
        await redis.aclose()
    reasons = await dead_letters(stack.kafka.bootstrap, sources)
    assert set(reasons) == sources
    assert all(reasons.values())
    assert not any("signed" in reason for reason in reasons.values()), reasons
    assert stack.services["materialiser"].alive()

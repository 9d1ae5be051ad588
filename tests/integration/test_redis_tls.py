"""Issue 26: Redis in transit. A whole stack whose every Redis -- the consent state, its
read replica and the enforcer's store -- speaks TLS only: the materialiser writes the
state, the replica copies it, and the check service and the SDK answer from it, each
client verifying the server's certificate against the CA its URL names. A client that
does not speak TLS, or does not trust that CA, gets nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from consentry_sdk import CheckSettings, connect
from consentry_stack.stack import Stack
from tests.support.http import await_answer, decide, register
from tests.support.ids import new_isrc, new_party, new_upc


@pytest.fixture(scope="module")
def tls_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = Path(tmp_path_factory.mktemp("tls-stack"))
    with Stack(root, redis_tls=True, replica=True).running() as up:
        yield up


def test_the_check_path_and_the_materialiser_run_over_tls(tls_stack: Stack) -> None:
    stack = tls_stack
    assert stack.check_redis_url.startswith("rediss://")
    artist, isrc = new_party(), new_isrc()
    register(stack, isrc, new_upc(), [artist])
    await_answer(stack, isrc, "ai.training", "allow", timeout_s=15)
    decide(stack, artist, "ai.training", "deny", "party")
    await_answer(stack, isrc, "ai.training", "deny", timeout_s=15)

    async def sdk_answer() -> str:
        async with connect(CheckSettings(redis_url=stack.check_redis_url)) as checker:
            return (await checker.check(isrc, "ai.training")).verdict.value

    assert asyncio.run(sdk_answer()) == "deny"


def test_a_client_without_tls_or_without_the_ca_gets_nothing(tls_stack: Stack) -> None:
    stack = tls_stack
    plain = stack.redis.url.replace("rediss://", "redis://").split("?")[0]
    untrusting = stack.redis.url.split("?")[0]  # TLS, but only the system's CAs
    for url, why in ((plain, None), (untrusting, "certificate verify failed")):
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        with pytest.raises(redis.exceptions.RedisError, match=why):
            client.ping()
        client.close()
    trusting = redis.Redis.from_url(stack.redis.url, socket_timeout=2)
    assert trusting.ping()
    trusting.close()

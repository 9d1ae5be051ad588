"""The check side on a real Redis read replica (``redis-server --replicaof``): answers
come from the replica; a consistency token is honoured there; and when the replica's
link to the primary is cut, its copy of the freshness ages and checks answer
``unverifiable`` -- never an allow from the stale copy past the bound."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from consentry_domain import Basis
from consentry_sdk import CheckSettings, connect
from consentry_stack.ports import free_port
from consentry_stack.stack import Stack
from tests.faults.proxy import FaultProxy, Mode
from tests.support.eventually import eventually
from tests.support.http import await_answer, decide, register
from tests.support.ids import new_isrc, new_party, new_upc

BOUND_S = 2.0


@pytest.fixture
def replicated(tmp_path: Path) -> Iterator[tuple[Stack, FaultProxy]]:
    via = free_port()
    stack = Stack(tmp_path / "stack", canary_interval_s=60, replica=True, replica_via=via)
    link = FaultProxy(stack.redis.port, via).start()
    try:
        with stack.running():
            yield stack, link
    finally:
        link.stop()


def test_checks_read_a_replica_that_honours_tokens_and_fails_closed_when_cut_off(
    replicated: tuple[Stack, FaultProxy],
) -> None:
    stack, link = replicated
    assert stack.replica_redis is not None
    replica = redis.Redis.from_url(stack.replica_redis.url)
    assert replica.info("replication")["role"] == "slave"
    assert stack.check_redis_url.endswith(f":{stack.replica_redis.port}/0")
    artist, isrc = new_party(), new_isrc()
    register(stack, isrc, new_upc(), [artist])
    await_answer(stack, isrc, "ai.training", "allow")  # the check service: on the replica
    settings = CheckSettings(
        redis_url=stack.check_redis_url, heartbeat_bound_s=BOUND_S, cache_bound_s=0
    )

    async def scenario() -> tuple[list[Basis], list[Basis], str]:
        async with connect(settings) as checker:
            token = decide(stack, artist, "ai.training", "deny", "party")["token"]
            read_your_write = await checker.check(isrc, "ai.training", token=token)
            assert read_your_write.reasons[0].basis is Basis.DECISION, read_your_write
            assert not read_your_write.allowed

            link.set(Mode.BLACKHOLE)  # the replica hears nothing more from its primary
            cut = time.monotonic()
            allow = decide(stack, artist, "ai.training", "allow", "party")["token"]
            plain, with_token = [], []
            while time.monotonic() < cut + BOUND_S + 3:
                answer = await checker.check(isrc, "ai.training")
                if time.monotonic() > cut + BOUND_S + 1:  # the copy is now provably stale
                    plain.append(answer.reasons[0].basis)
                pending = await checker.check(isrc, "ai.training", token=allow)
                with_token.append(pending.reasons[0].basis)
                await asyncio.sleep(0.05)
            # A black hole loses bytes, which TCP never would; the heal is what a timed-out
            # link gets: the connection drops and the replica dials again.
            link.set(Mode.RESET)
            link.set(Mode.PASS)
            return plain, with_token, allow

    async def after_heal(token: str) -> tuple[Basis, bool]:
        async with connect(settings) as checker:
            answer = await checker.check(isrc, "ai.training", token=token)
            return answer.reasons[0].basis, answer.allowed

    plain, with_token, allow = asyncio.run(scenario())
    assert plain, "checks ran after the bound"
    assert set(plain) == {Basis.UNVERIFIABLE}, plain
    assert set(with_token) <= {Basis.PENDING, Basis.UNVERIFIABLE}, with_token
    eventually(
        lambda: replica.info("replication")["master_link_status"] == "up", 60, "link back up"
    )
    eventually(
        lambda: asyncio.run(after_heal(allow)) == (Basis.DECISION, True), 30, "healed replica"
    )
    await_answer(stack, isrc, "ai.training", "allow", timeout_s=30)

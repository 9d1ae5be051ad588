"""Issue 7, fault 3: Redis loses everything while the stack runs.

Checks must answer deny ('unverifiable') from the moment of the loss -- never an allow
from the empty or half-rebuilt state, not even for a track registered after the loss
under a label that opted out before it -- and the materialiser must rebuild the state
from Kafka by itself, after which the answers are right again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from consentry_stack.stack import Stack
from consentry_state import keys, layout
from tests.support.eventually import eventually
from tests.support.http import await_answer, check, decide, register
from tests.support.ids import new_isrc, new_party, new_upc


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with Stack(tmp_path / "stack", canary_interval_s=60).running() as up:
        yield up


def ready(stack: Stack) -> bool:
    return httpx.get(f"{stack.check_url}/readyz", timeout=2).status_code == 200


@pytest.mark.parametrize("loss", ["flushall", "restart"])
def test_redis_lost_denies_until_rebuilt_from_kafka(stack: Stack, loss: str) -> None:
    label, upc = new_party("label"), new_upc()
    ours = [new_isrc() for _ in range(30)]
    for isrc in ours:
        register(stack, isrc, upc, [new_party(), label])
    theirs = new_isrc()
    register(stack, theirs, new_upc(), [new_party()])
    decide(stack, label, "ai.training", "deny", "party")
    for isrc in ours:
        await_answer(stack, isrc, "ai.training", "deny")
    await_answer(stack, theirs, "ai.training", "allow")

    if loss == "flushall":
        redis.Redis.from_url(stack.redis.url).flushall()
    else:
        stack.redis.stop()
        stack.redis.start()  # same port, empty: no persistence
    lost = time.monotonic()
    later = new_isrc()
    register(stack, later, new_upc(), [new_party(), label])

    answers_during = 0

    def rebuilt() -> bool:
        nonlocal answers_during
        if ready(stack):
            return True
        for isrc in [*ours[:5], later]:
            answer = check(stack, isrc, "ai.training")
            assert answer["answer"] == "deny", f"allowed during the rebuild: {answer}"
            answers_during += 1
        return False

    eventually(rebuilt, 60, "the state rebuilt from Kafka", poll_s=0)
    rebuilt_after = time.monotonic() - lost

    for isrc in [*ours, later]:
        answer = await_answer(stack, isrc, "ai.training", "deny")
        assert answer["reasons"][0]["summary"] == f"{label}, party-wide, ai.training"
    await_answer(stack, theirs, "ai.training", "allow")
    print(
        f"\n[fault] Redis {loss}: rebuilt from Kafka in {rebuilt_after:.2f} s; "
        f"{answers_during} checks during the rebuild, all deny"
    )


def test_a_state_in_another_layout_is_retired_and_rebuilt(stack: Stack) -> None:
    """Upgrading to a new layout is a rebuild from the log: the workers find the old
    version, checks answer unverifiable (deny) until the state is whole again in the new
    layout, and the old layout's keys are swept away."""
    label, isrc = new_party("label"), new_isrc()
    register(stack, isrc, new_upc(), [new_party(), label])
    token = decide(stack, label, "ai.training", "deny", "party")["token"]
    await_answer(stack, isrc, "ai.training", "deny")
    admin = redis.Redis.from_url(stack.redis.url)
    leftover = keys.PREFIX + "party:" + label  # a key of layout 1
    admin.hset(leftover, "p||ai.training", "{}")
    admin.set(keys.LAYOUT, "1")
    answers: list[str] = []

    def rebuilt() -> bool:
        answer = check(stack, isrc, "ai.training", token)  # from Redis, not the cache
        answers.append(answer["reasons"][0]["basis"])
        assert answer["answer"] == "deny", answer
        return bool(answer["reasons"][0]["basis"] == "decision" and answers[0] != "decision")

    eventually(rebuilt, 60, "the state rebuilt in this layout", poll_s=0.01)
    assert answers[0] == "unverifiable", "a state in another layout is not vouched for"
    assert admin.get(keys.LAYOUT) == layout.VERSION.encode()
    eventually(lambda: not admin.exists(leftover), 30, "the old layout's keys swept")

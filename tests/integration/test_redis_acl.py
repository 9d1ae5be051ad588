"""Least privilege in Redis: the check side reads consent keys and can change none."""

from __future__ import annotations

import pytest
import redis
from redis.exceptions import AuthenticationError, NoPermissionError, ResponseError

from consentry_stack.stack import Stack
from consentry_state import keys, layout
from tests.support.eventually import eventually
from tests.support.http import decide
from tests.support.ids import new_party

WRITES = [
    ("HSET", "{key}", "{party}", "|ai|-1|"),
    ("HDEL", "{key}", "{party}"),
    ("DEL", "{key}"),
    ("UNLINK", "{key}"),
    ("EXPIRE", "{key}", "1"),
    ("RENAME", "{key}", keys.PREFIX + "stolen"),
    ("FLUSHALL",),
    ("FLUSHDB",),
    ("PUBLISH", keys.INVALIDATIONS, keys.party_tag("{party}")),
    ("EVAL", "return redis.call('DEL', KEYS[1])", "1", "{key}"),
    ("SCRIPT", "FLUSH"),
    ("CONFIG", "SET", "appendonly", "no"),
    ("ACL", "SETUSER", "checker", "+@all"),
]


@pytest.fixture
def decided(stack: Stack) -> str:
    party = new_party()
    decide(stack, party, "ai.training", "deny", "party")
    admin = _client(stack, "admin")
    key, field = layout.party_decisions_place(party)
    eventually(lambda: admin.hexists(key, field), 5, "the decision materialised")
    return party


def _client(stack: Stack, user: str) -> redis.Redis:
    return redis.Redis.from_url(stack.redis.url_for(user), socket_timeout=5)


@pytest.mark.parametrize("command", WRITES, ids=lambda c: " ".join(c[:2]))
def test_the_check_side_cannot_write_or_delete_a_consent_key(
    stack: Stack, decided: str, command: tuple[str, ...]
) -> None:
    key = layout.party_decisions_place(decided)[0]
    admin = _client(stack, "admin")
    before = admin.hgetall(key)
    assert before, "the decision is materialised"
    checker = _client(stack, "checker")
    argv = [part.format(key=key, party=decided) for part in command]
    with pytest.raises((NoPermissionError, ResponseError)) as refused:
        checker.execute_command(*argv)  # type: ignore[no-untyped-call]
    assert "permission" in str(refused.value).lower() or "can't run" in str(refused.value)
    assert admin.hgetall(key) == before


def test_the_check_side_can_read_and_run_the_read_only_script(stack: Stack, decided: str) -> None:
    checker = _client(stack, "checker")
    assert checker.hgetall(layout.party_decisions_place(decided)[0])
    writing = "return redis.call('DEL', KEYS[1])"
    with pytest.raises(ResponseError):
        checker.eval_ro(writing, 1, layout.party_decisions_place(decided)[0])
    reading = "return redis.call('EXISTS', KEYS[1])"
    assert checker.eval_ro(reading, 1, layout.party_decisions_place(decided)[0]) == 1


def test_the_write_api_cannot_touch_the_materialised_state(stack: Stack, decided: str) -> None:
    writer = _client(stack, "writeapi")
    assert writer.hgetall(layout.party_decisions_place(decided)[0])
    with pytest.raises(NoPermissionError):
        writer.hset(layout.party_decisions_place(decided)[0], decided, "|ai|-1|")
    with pytest.raises(NoPermissionError):
        writer.delete(keys.WATERMARKS)


def test_the_passwordless_default_user_is_off(stack: Stack) -> None:
    anonymous = redis.Redis(port=stack.redis.port, socket_timeout=5)
    with pytest.raises((AuthenticationError, ResponseError)):
        anonymous.get(keys.READY)


def test_the_launchers_redis_never_evicts(stack: Stack) -> None:
    """An evicted slot would silently turn a deny into the default."""
    policy = _client(stack, "admin").config_get("maxmemory-policy")
    assert policy == {"maxmemory-policy": "noeviction"}

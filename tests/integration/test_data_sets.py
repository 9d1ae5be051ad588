"""Issue 15: data sets against consent on the real stack -- the filter agrees with single
checks, a snapshot followed by the change feed from its token equals the live state,
the `consentry filter` command does what the SDK does, and an unverifiable state is an
error, never an answer."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import aclosing
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from consentry_domain import Verdict, load_taxonomy
from consentry_sdk import ChangeFeed, Checkpoint, CheckSettings, FeedSettings, connect
from consentry_sdk.datasets import DataSets, UnknownPurpose, Unverifiable
from consentry_stack.stack import Stack
from consentry_state import StateReader
from tests.support.data_sets import catalogue_with_decisions, data_sets
from tests.support.http import SERVICE, decide, register
from tests.support.ids import new_isrc, new_party, new_upc


def test_the_filter_agrees_with_single_checks(stack: Stack) -> None:
    made = catalogue_with_decisions(stack)
    on_a, on_b = made.on_a, made.on_b
    retired = new_isrc()
    register(stack, retired, new_upc(), [new_party()], status="retired")
    manifest = [*on_a, *on_b, retired, new_isrc(), "not-an-isrc", "GB ABC 12 34567", on_b[3]]

    async def both() -> tuple[list[str], dict[str, bool]]:
        async with data_sets(stack, batch=7) as sets:  # several batches, in flight
            allowed = [i async for page in sets.filter(manifest, "ai.training") for i in page.isrcs]
        settings = CheckSettings(redis_url=stack.check_redis_url, cache_bound_s=0)
        async with connect(settings) as checker:
            single = {
                isrc: (await checker.check(isrc, "ai.training")).allowed
                for isrc in manifest
                if isrc.isalnum()
            }
        return allowed, single

    allowed, single = asyncio.run(both())
    assert allowed == [i for i in manifest if single.get(i)], "the filter and the checks differ"
    assert on_a[0] in allowed
    assert on_a[1] not in allowed
    assert on_b[0] not in allowed
    assert allowed.count(on_b[3]) == 2, "a repeated line is answered each time, in order"


def test_a_snapshot_followed_from_its_token_equals_the_live_state(stack: Stack) -> None:
    made = catalogue_with_decisions(stack)
    label, on_a, on_b = made.party, made.on_a, made.on_b
    mine = [*on_a, *on_b]

    async def scenario() -> tuple[set[str], set[str]]:
        denied: set[str] = set()
        cursor = None
        async with data_sets(stack) as sets:
            async for page in sets.snapshot("ai.training", Verdict.DENY, party=label):
                denied.update(page.isrcs)
                cursor = page.cursor
        assert cursor is not None
        assert denied == {*on_a[1:], on_b[0]}, "the snapshot is not the state"
        # After the snapshot: release A's opt-out withdrawn, one more track opted out.
        after = [
            await asyncio.to_thread(
                decide, stack, label, "ai.training", "withdrawn", "release", upc=made.release_a
            ),
            await asyncio.to_thread(
                decide, stack, label, "ai.training", "deny", "track", isrc=on_b[5]
            ),
        ]
        # No waiting for the enforcer: a caught-up checkpoint covers what was accepted.
        accepted = max(datetime.fromisoformat(body["accepted_at"]) for body in after)
        feed = ChangeFeed(
            FeedSettings(kafka_bootstrap=stack.kafka.bootstrap, checkpoint_every_s=0.2)
        )
        async with aclosing(feed.follow(["ai.training"], cursor)) as items:
            async for item in items:
                if isinstance(item, Checkpoint):
                    if item.caught_up:
                        assert item.complete_to is not None
                        assert item.complete_to >= accepted
                        break
                elif item.event.isrc in mine and item.event.purpose == "ai.training":
                    if item.event.answer == "deny":
                        denied.add(item.event.isrc)
                    else:
                        denied.discard(item.event.isrc)
        settings = CheckSettings(redis_url=stack.check_redis_url, cache_bound_s=0)
        async with connect(settings) as checker:
            answers = await checker.check_many(mine, "ai.training")
        return denied, {isrc for isrc, answer in answers.items() if not answer.allowed}

    followed, live = asyncio.run(scenario())
    assert live == {on_b[0], on_b[5]}, "the changes after the snapshot did not happen"
    assert followed == live


def test_consentry_filter_command(stack: Stack, tmp_path: Path) -> None:
    made = catalogue_with_decisions(stack)
    on_a, on_b = made.on_a, made.on_b
    manifest = tmp_path / "manifest.txt"
    manifest.write_text("\n".join([*on_a, *on_b, new_isrc()]) + "\n")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CONSENTRY_")},
        "CONSENTRY_CHECK_REDIS_URL": stack.check_redis_url,
        "CONSENTRY_FEED_KAFKA_BOOTSTRAP": stack.kafka.bootstrap,
    }
    consentry = str(Path(sys.executable).parent / "consentry")  # the installed command
    command = [consentry, "filter", "--purpose", "ai.training"]
    done = subprocess.run(
        [*command, str(manifest)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [on_a[0], *on_b[1:]]
    assert "token: c1:" in done.stderr
    assert "allowed for ai.training: 12 of 25" in done.stderr
    refused = subprocess.run(
        [*command[:-1], "ai.nonsense", str(manifest)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode != 0
    assert "unknown purpose" in refused.stderr
    assert refused.stdout == ""


def test_an_unverifiable_state_is_an_error_not_an_answer(stack: Stack) -> None:
    on_a = catalogue_with_decisions(stack).on_a

    def an_hour_later() -> int:
        return time.time_ns() // 1_000_000 + 3_600_000

    async def filtered(purpose: str, clock_ms: Callable[[], int]) -> list[str]:
        redis = Redis.from_url(stack.check_redis_url)
        try:
            sets = DataSets(StateReader(redis), load_taxonomy(None), clock_ms=clock_ms)
            return [i async for page in sets.filter(on_a, purpose) for i in page.isrcs]
        finally:
            await redis.aclose()

    with pytest.raises(Unverifiable, match="cannot be verified"):
        asyncio.run(filtered("ai.training", an_hour_later))
    with pytest.raises(UnknownPurpose):
        asyncio.run(filtered("ai.nonsense", lambda: time.time_ns() // 1_000_000))


def test_the_check_service_filters_a_data_set_over_http(stack: Stack) -> None:
    made = catalogue_with_decisions(stack)
    manifest = [*made.on_a, *made.on_b, new_isrc(), "not-an-isrc"]
    answer = httpx.post(
        f"{stack.check_url}/v1/filter",
        json={"purpose": "ai.training", "isrcs": manifest},
        headers=stack.bearer(SERVICE),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["allowed"] == [made.on_a[0], *made.on_b[1:]]
    assert body["checked"] == len(manifest)
    assert body["fresh_until"].endswith("Z")
    unknown = httpx.post(
        f"{stack.check_url}/v1/filter",
        json={"purpose": "ai.nonsense", "isrcs": manifest},
        headers=stack.bearer(SERVICE),
        timeout=10,
    )
    assert unknown.status_code == 422
    as_party = httpx.post(
        f"{stack.check_url}/v1/filter",
        json={"purpose": "ai.training", "isrcs": manifest},
        headers=stack.bearer(made.party),
        timeout=10,
    )
    assert as_party.status_code in (401, 403)

"""Up to when a follower has everything (``consentry_sdk.feed_standing.passed``): the newest
moment whose consent and catalogue log ends the enforcer has committed past."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiokafka import TopicPartition

from consentry_sdk.feed_standing import passed

A, B = TopicPartition("consent", 0), TopicPartition("catalogue", 0)
T = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_newest_candidate_the_enforcer_has_passed() -> None:
    candidates = [
        (T, {A: 5, B: 2}),
        (T + timedelta(seconds=1), {A: 7, B: 2}),
        (T + timedelta(seconds=2), {A: 9, B: 3}),
    ]
    assert passed(candidates, {A: 4, B: 2}) is None
    assert passed(candidates, {A: 5, B: 2}) == 0
    assert passed(candidates, {A: 8, B: 2}) == 1
    assert passed(candidates, {A: 9, B: 3}) == 2


def test_a_partition_never_committed_counts_as_zero() -> None:
    assert passed([(T, {A: 0, B: 0})], {}) == 0
    assert passed([(T, {A: 1, B: 0})], {}) is None

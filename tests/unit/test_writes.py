"""The write protocol's rules (``consentry_domain.writes``): each decision on its own, and
a property over any interleaving of requests, broker outcomes, crashes and time: one
Idempotency-Key never produces two events, and a finished key's answer is in the log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consentry_domain.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from consentry_domain.writes import (
    Forget,
    IdempotencyRecord,
    Intent,
    KeyState,
    Landed,
    Leave,
    Replay,
    Write,
    after_failed_produce,
    on_earlier_attempt,
    settle,
    under_lock,
)
from consentry_events import CONSENT_CHANGES, Choice, PartyEvent, Scope
from consentry_events.logged import LoggedEvent
from tests.support.events import decision_event

LIMIT_MS = 60_000


def record(state: KeyState, event_id: str = "e1", started_ms: int = 0) -> IdempotencyRecord:
    response: dict[str, object] | None = {"token": "t"} if state is KeyState.DONE else None
    return IdempotencyRecord(state, "fp", event_id, started_ms, response)


def test_a_key_reused_for_another_request_is_refused() -> None:
    with pytest.raises(IdempotencyKeyReused):
        on_earlier_attempt(record(KeyState.DONE), "other", 0, LIMIT_MS)


def test_a_finished_key_answers_again_and_one_in_flight_is_refused() -> None:
    assert on_earlier_attempt(record(KeyState.DONE), "fp", 0, LIMIT_MS) == Replay({"token": "t"})
    with pytest.raises(IdempotencyKeyInFlight):
        on_earlier_attempt(record(KeyState.PENDING, started_ms=1000), "fp", 2000, LIMIT_MS)


def test_an_unknown_or_abandoned_key_is_written_again_with_its_event_id() -> None:
    unknown = record(KeyState.UNKNOWN, "e7")
    assert on_earlier_attempt(unknown, "fp", 0, LIMIT_MS) == Write("e7")
    abandoned = record(KeyState.PENDING, "e8", started_ms=0)
    assert on_earlier_attempt(abandoned, "fp", LIMIT_MS + 1, LIMIT_MS) == Write("e8")


def test_under_the_lock_a_key_found_done_meanwhile_is_replayed() -> None:
    assert under_lock(record(KeyState.DONE)) == Replay({"token": "t"})
    assert under_lock(record(KeyState.UNKNOWN)) is None
    assert under_lock(None) is None


def test_a_failed_produce_clears_or_keeps_the_intent() -> None:
    not_written = after_failed_produce(False)
    assert (not_written.clear_intent, not_written.forget_key) == (True, True)
    unknown = after_failed_produce(None)
    assert (unknown.clear_intent, unknown.mark_unknown) == (False, True)


def logged(event_id: str, offset: int) -> LoggedEvent[PartyEvent]:
    event = decision_event("artist:p", "ai", Choice.DENY, Scope.PARTY)
    event = event.model_copy(update={"decision_id": uuid.UUID(event_id)})
    return LoggedEvent(CONSENT_CHANGES.name, 0, offset, event)


def test_settling_reads_the_log() -> None:
    mine = str(uuid.UUID(int=1))
    intent = Intent(0, 4, mine, "k")
    pending = record(KeyState.UNKNOWN, mine)
    landed = logged(mine, 5)
    assert settle(intent, pending, [landed]) == Landed(landed)
    assert settle(intent, pending, [logged(str(uuid.UUID(int=2)), 5)]) == Forget()
    assert settle(intent, None, [landed]) == Leave()
    assert settle(intent, record(KeyState.DONE, mine), [landed]) == Leave()
    assert settle(intent, record(KeyState.UNKNOWN, "someone-else"), [landed]) == Leave()


# -- the property: a model of PartyLog's steps, each decided by the functions above --

OUTCOMES = ["ack", "not_written", "unknown_landed", "unknown_lost", "crash_before", "crash_after"]


@dataclass
class World:
    """One party's log and chain head, one key's record, a clock."""

    now_ms: int = 0
    log: list[LoggedEvent[PartyEvent]] = field(default_factory=list)
    head: int = -1
    intent: Intent | None = None
    records: dict[str, IdempotencyRecord] = field(default_factory=dict)
    answers: list[dict[str, object]] = field(default_factory=list)
    ids: int = 0

    def new_id(self) -> str:
        self.ids += 1
        return str(uuid.UUID(int=self.ids))

    def append(self, event_id: str) -> int:
        offset = len(self.log)
        self.log.append(logged(event_id, offset))
        return offset

    def settle_intent(self) -> None:
        intent = self.intent
        assert intent is not None
        self.now_ms = max(self.now_ms, intent.settle_at_ms)  # the write waits for it
        past = [r for r in self.log if r.offset > intent.after]
        if past:
            self.head = past[-1].offset
        verdict = settle(intent, self.records.get(intent.idempotency_key), past)
        if isinstance(verdict, Forget):
            del self.records[intent.idempotency_key]
        elif isinstance(verdict, Landed):
            old = self.records[intent.idempotency_key]
            answer: dict[str, object] = {"event": verdict.record.event_id}
            self.records[intent.idempotency_key] = IdempotencyRecord(
                KeyState.DONE, old.fingerprint, intent.event_id, old.started_ms, answer
            )
        self.intent = None

    def request(self, key: str, outcome: str) -> None:
        """One request with Idempotency-Key ``key``, as PartyLog.append runs it."""
        event_id = self.new_id()
        prior = self.records.get(key)
        if prior is None:
            self.records[key] = IdempotencyRecord(KeyState.PENDING, "fp", event_id, self.now_ms)
        else:
            try:
                step = on_earlier_attempt(prior, "fp", self.now_ms, LIMIT_MS)
            except IdempotencyKeyInFlight:
                return  # 409
            if isinstance(step, Replay):
                self.answers.append(step.response)
                return
            event_id = step.event_id
        # the party's lock is held from here
        if self.intent is not None:
            self.settle_intent()
        current = self.records.get(key)
        if (replay := under_lock(current)) is not None:
            self.answers.append(replay.response)
            return
        if current is None:
            self.records[key] = IdempotencyRecord(KeyState.PENDING, "fp", event_id, self.now_ms)
        self.intent = Intent(self.now_ms + 12_000, self.head, event_id, key)
        if outcome == "crash_before":
            return  # the process died after recording its intent
        if outcome in ("ack", "unknown_landed", "crash_after"):
            offset = self.append(event_id)
            if outcome == "crash_after":
                return  # in the log, but nobody heard back and nothing was noted
            if outcome == "ack":
                self.head, self.intent = offset, None
                answer: dict[str, object] = {"event": event_id}
                self.records[key] = IdempotencyRecord(KeyState.DONE, "fp", event_id, 0, answer)
                self.answers.append(answer)
                return
        then = after_failed_produce(False if outcome == "not_written" else None)
        if then.clear_intent:
            self.intent = None
        if then.forget_key:
            del self.records[key]
        if then.mark_unknown:
            self.records[key] = IdempotencyRecord(KeyState.UNKNOWN, "fp", event_id, self.now_ms)


STEPS = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(OUTCOMES), st.integers(0, 90_000)),
    min_size=1,
    max_size=25,
)


@settings(max_examples=400)
@given(STEPS)
def test_one_idempotency_key_never_produces_two_events(steps: list[tuple[str, str, int]]) -> None:
    world = World()
    ids_of: dict[str, set[str]] = {"a": set(), "b": set()}
    for key, outcome, wait_ms in steps:
        before = world.ids
        world.request(key, outcome)
        ids_of[key].update(str(uuid.UUID(int=i)) for i in range(before + 1, world.ids + 1))
        world.now_ms += wait_ms
    for key, ids in ids_of.items():
        events = [r for r in world.log if r.event_id in ids]
        assert len(events) <= 1, f"key {key} produced {len(events)} events"
    logged_ids = {r.event_id for r in world.log}
    for answer in world.answers:
        assert answer["event"] in logged_ids, "an answer names an event that is not in the log"
    # A request that finally succeeds leaves exactly one event for its key.
    for key in ("a", "b"):
        final = world.records.get(key)
        if final is not None and final.state is KeyState.DONE:
            assert sum(r.event_id in ids_of[key] for r in world.log) == 1


def test_the_model_can_fail() -> None:
    """Without settlement (forgetting the key whatever the log says) a landed unknown
    write would be written twice: the property above must catch that."""
    world = World()
    world.request("a", "unknown_landed")
    world.now_ms += LIMIT_MS
    world.intent = None  # skip settling: the retry cannot learn that it landed
    del world.records["a"]
    world.request("a", "ack")
    assert len(world.log) == 2

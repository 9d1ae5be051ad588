"""The rules of a party's write, as pure decisions: idempotency keys, intents, settlement.

A party's events are hash-chained, so its writes are serialised (a lock per party), and
each write leaves an *intent* on the party's chain head before it is produced. What the
write API does at each step is decided here, from plain values;
``consentry_writeapi.recorder.PartyLog`` only reads, writes and waits.

* **An earlier request with the same Idempotency-Key** (``on_earlier_attempt``): a
  different request under the key is refused; a finished one is answered again as it
  was; one still being written is refused with "in progress"; one whose outcome is
  unknown is written again *with the same event id* -- after settling, below.
* **Under the lock** (``under_lock``): the record may have changed while we waited for
  the lock (a settlement found the earlier write landed): answer that instead.
* **A failed produce** (``after_failed_produce``): not written -- drop the intent and the
  key's record, a retry writes afresh; unknown -- keep both, marked unknown.
* **Settling an intent** (``settle``): after the produce timeout has surely passed, the
  party's records past the head are read from the log. If the intent's event is there,
  the key's record becomes that answer (a retry replays it); if not, the record is
  dropped (a retry writes it once). A record that belongs to another event, or is
  already done, is left alone.

Together: however requests, timeouts and crashes interleave, one Idempotency-Key
produces at most one event (a property test in ``tests/unit/test_writes.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from consentry_domain.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from consentry_events import PartyEvent
from consentry_events.logged import LoggedEvent


class KeyState(StrEnum):
    PENDING = "pending"
    """A request with this key is being written."""
    UNKNOWN = "unknown"
    """Its write's outcome is unknown (the broker did not answer in time)."""
    DONE = "done"
    """The first answer is kept, to be returned again."""


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    state: KeyState
    fingerprint: str
    """Hash of the request's route and body: a key reused for another request is refused."""
    event_id: str
    started_ms: int
    response: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class Intent:
    """A write about to be produced, left on the party's chain head."""

    settle_at_ms: int
    """When its outcome is surely decided: the produce timeout plus a margin."""
    after: int
    """The head's offset when the intent was recorded: the write, if it landed, is past it
    (the materialiser may move the head on to it meanwhile)."""
    event_id: str
    idempotency_key: str
    """The key's record to settle; empty without an Idempotency-Key."""


@dataclass(frozen=True, slots=True)
class Replay:
    """Answer the first answer again; write nothing."""

    response: dict[str, object]


@dataclass(frozen=True, slots=True)
class Write:
    """Go on and write the event with this id."""

    event_id: str


def on_earlier_attempt(
    prior: IdempotencyRecord, fingerprint: str, now_ms: int, in_flight_limit_ms: float
) -> Replay | Write:
    """A request found an earlier record under its Idempotency-Key."""
    if prior.fingerprint != fingerprint:
        raise IdempotencyKeyReused
    if prior.state is KeyState.DONE and prior.response is not None:
        return Replay(prior.response)
    if prior.state is KeyState.PENDING and now_ms - prior.started_ms < in_flight_limit_ms:
        raise IdempotencyKeyInFlight
    return Write(prior.event_id)


def under_lock(current: IdempotencyRecord | None) -> Replay | None:
    """The key's record, read again once the party's lock is held (after any settlement):
    a replay if the earlier write turned out to have landed, else ``None`` (write; the
    record must be claimed again if it is gone)."""
    if current is not None and current.state is KeyState.DONE and current.response is not None:
        return Replay(current.response)
    return None


@dataclass(frozen=True, slots=True)
class AfterFailure:
    clear_intent: bool
    forget_key: bool
    mark_unknown: bool


def after_failed_produce(written: bool | None) -> AfterFailure:
    """``written`` False: the broker surely has nothing; None: unknown."""
    if written is False:
        return AfterFailure(clear_intent=True, forget_key=True, mark_unknown=False)
    return AfterFailure(clear_intent=False, forget_key=False, mark_unknown=True)


@dataclass(frozen=True, slots=True)
class Leave:
    """The key's record is not this intent's to settle."""


@dataclass(frozen=True, slots=True)
class Forget:
    """The write never landed: drop the record so a retry writes it once."""


@dataclass(frozen=True, slots=True)
class Landed:
    """The write is in the log: the record becomes its answer."""

    record: LoggedEvent[PartyEvent]


def settle(
    intent: Intent,
    key_record: IdempotencyRecord | None,
    past_head: Sequence[LoggedEvent[PartyEvent]],
) -> Leave | Forget | Landed:
    """What the log (the party's records past ``intent.after``) says of the intent's write."""
    if (
        key_record is None
        or key_record.event_id != intent.event_id
        or key_record.state is KeyState.DONE
    ):
        return Leave()
    landed = next((r for r in past_head if r.event_id == intent.event_id), None)
    return Forget() if landed is None else Landed(landed)

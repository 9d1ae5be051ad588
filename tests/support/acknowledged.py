"""Nothing acknowledged is lost: every write answered 202 is in the log at its token, is
the event it says, and is applied to Redis. Shared by the fault tests and the soak."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx
from redis.asyncio import Redis

from consentry_events import CONSENT_CHANGES
from consentry_events.tokens import parse_token
from consentry_stack.stack import Stack
from consentry_state import LogProgress
from tests.support.ids import new_party
from tests.support.log import in_log


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """A decision the write API answered 202 for."""

    party: str
    partition: int
    offset: int
    decision_id: str

    @classmethod
    def from_answer(cls, party: str, body: dict[str, object]) -> Acknowledged:
        token = parse_token(str(body["token"]))
        return cls(party, token.partition, token.offset, str(body["decision_id"]))


async def unaccounted(
    stack: Stack, writes: list[Acknowledged], timeout_s: float = 60.0
) -> list[str]:
    """What is wrong with each acknowledged write (empty when nothing is): not in the log
    at its token as that decision, or not applied within ``timeout_s``."""
    redis = Redis.from_url(stack.redis.url)
    progress = LogProgress(redis)
    problems = []
    try:
        for write in writes:
            event = await in_log(stack.kafka.bootstrap, write.partition, write.offset)
            if (event.party, str(event.decision_id)) != (write.party, write.decision_id):
                problems.append(f"{write}: the log holds {event.party} {event.decision_id}")
                continue
            tp = (CONSENT_CHANGES.name, write.partition)
            if not await progress.wait_applied({tp: write.offset}, timeout_s, poll_s=0.05):
                problems.append(f"{write}: never applied")
    finally:
        await redis.aclose()
    return problems


async def verify_acknowledged(stack: Stack, writes: list[Acknowledged]) -> None:
    """Every write answered 202 is in the log at its token and applied to Redis."""
    problems = await unaccounted(stack, writes)
    assert not problems, problems


async def write_for(
    stack: Stack, seconds: float, results: list[tuple[str, int, dict[str, object]]]
) -> None:
    """Post opt-outs back to back for ``seconds``; record every outcome."""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=30) as http:

        async def one(party: str) -> None:
            body = {"party": party, "purpose": "ai.training", "choice": "deny", "scope": "party"}
            try:
                response = await http.post(
                    f"{stack.write_url}/v1/decisions", json=body, headers=stack.bearer(party)
                )
                results.append((party, response.status_code, response.json()))
            except httpx.HTTPError as exc:
                results.append((party, 0, {"error": repr(exc)}))

        while time.monotonic() < deadline:
            await asyncio.gather(*(one(new_party()) for _ in range(5)))
            await asyncio.sleep(0.02)


def acknowledged(results: list[tuple[str, int, dict[str, object]]]) -> list[Acknowledged]:
    """The 202s among ``write_for``'s results."""
    return [Acknowledged.from_answer(p, body) for p, status, body in results if status == 202]


def outcome_of(body: dict[str, object]) -> object:
    """A refused write's ``outcome`` (not_written or unknown), if it says."""
    detail = body.get("detail")
    return detail.get("outcome") if isinstance(detail, dict) else None

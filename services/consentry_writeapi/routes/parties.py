"""``GET /v1/parties/{party}/...``: a party's decisions now, its history from the log, its
delegations (granted, and received from others with what it decided under them) and its
verified hash chain."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends

from consentry_auth import Principal
from consentry_domain import Entry, SlotKey
from consentry_domain.chain import verify_chain
from consentry_events import ConsentChanged, ConsentChangedMany, Decision, DelegationAction, Scope
from consentry_events.logged import LoggedEvent
from consentry_events.models import PartyEvent, PartyId
from consentry_http import Caller, responses
from consentry_kafka import parties_history, party_history, party_records
from consentry_state import LogProgress
from consentry_writeapi.authorise import may_read
from consentry_writeapi.deps import DelegationsOf, Kafka, Progress, Stored, grants
from consentry_writeapi.schemas import (
    BadSignatureOut,
    BrokenLinkOut,
    ChainOut,
    DecisionOut,
    DecisionsOut,
    DelegationOut,
    DelegationsOut,
    DelegatorOut,
    DelegatorsOut,
)

router = APIRouter(tags=["parties"], responses=responses(401, 403, 422, 503))


async def _reader(party: PartyId, principal: Caller, delegations: DelegationsOf) -> Principal:
    """The caller, once allowed to read ``party``'s records (403 otherwise)."""
    may_read(principal, party, await grants(delegations, party))
    return principal


Reader = Annotated[Principal, Depends(_reader)]


async def _itself(party: PartyId, principal: Caller) -> Principal:
    """The party itself or an admin (403 otherwise): what others entrusted to a party is
    not for that party's own delegates to read."""
    may_read(principal, party, [])
    return principal


Itself = Annotated[Principal, Depends(_itself)]


def _moment(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


def _current(key: SlotKey, entry: Entry, in_force: bool) -> DecisionOut:
    return DecisionOut(
        decision_id=entry.decision_id,
        party=key.party,
        scope=key.scope,
        upc=key.work if key.scope is Scope.RELEASE else None,
        isrc=key.work if key.scope is Scope.TRACK else None,
        purpose=key.purpose,
        choice=entry.choice,
        effective_from=_moment(entry.effective_from_ms),
        expires_at=_moment(entry.expires_at_ms),
        offset=entry.offset,
        in_force=in_force,
    )


def _historic(record: LoggedEvent[Decision], applied: bool) -> list[DecisionOut]:
    """A decision as recorded; one on many works as one line per work, each with the
    event's id, offset and chain link."""
    event = record.event
    if isinstance(event, ConsentChanged):
        works = [(event.upc, event.isrc)]
    elif event.scope is Scope.RELEASE:
        works = [(upc, None) for upc in event.works]
    else:
        works = [(None, isrc) for isrc in event.works]
    return [_line(record, applied, upc, isrc) for upc, isrc in works]


def _line(
    record: LoggedEvent[Decision], applied: bool, upc: str | None, isrc: str | None
) -> DecisionOut:
    event = record.event
    return DecisionOut(
        decision_id=str(event.decision_id),
        party=event.party,
        scope=event.scope,
        upc=upc,
        isrc=isrc,
        purpose=event.purpose,
        choice=event.choice,
        effective_from=event.effective_from,
        expires_at=event.expires_at,
        partition=record.partition,
        offset=record.offset,
        recorded_at=event.recorded_at,
        applied=applied,
        actor=event.actor,
        authority=event.authority,
        prev_hash=event.prev_hash,
    )


@router.get("/v1/parties/{party}/decisions", response_model=DecisionsOut)
async def current_decisions(party: PartyId, _: Reader, stored: Stored) -> DecisionsOut:
    """The party's decisions as the checks see them now (materialised in Redis)."""
    slots = await stored.party_slots(party)
    now = time.time_ns() // 1_000_000
    decisions = [
        _current(key, entry, entry.in_force(now))
        for key, slot in sorted(slots.items())
        for entry in slot.entries
    ]
    return DecisionsOut(party=party, decisions=decisions)


@router.get("/v1/parties/{party}/history", response_model=DecisionsOut)
async def decision_history(
    party: PartyId, _: Reader, kafka: Kafka, progress: Progress
) -> DecisionsOut:
    """Every decision the party ever recorded, from Kafka, oldest first: who, when, how."""
    recorded = await party_history(kafka, party)
    return DecisionsOut(party=party, decisions=await _decisions(progress, recorded))


async def _decisions(
    progress: LogProgress, recorded: list[LoggedEvent[PartyEvent]], actor: str | None = None
) -> list[DecisionOut]:
    """The decisions among ``recorded`` (only ``actor``'s when given), each marked applied
    or not."""
    applied = await progress.applied((r.topic, r.partition) for r in recorded)
    return [
        line
        for r in recorded
        if isinstance(r.event, ConsentChanged | ConsentChangedMany)
        and (actor is None or r.event.actor == actor)
        for line in _historic(
            LoggedEvent(r.topic, r.partition, r.offset, r.event, r.digest),
            applied[(r.topic, r.partition)] >= r.offset,
        )
    ]


@router.get("/v1/parties/{party}/delegations", response_model=DelegationsOut)
async def delegations(party: PartyId, _: Reader, delegations: DelegationsOf) -> DelegationsOut:
    """Whom the party has delegated which purposes to, now."""
    granted = await delegations.granted(party)
    return DelegationsOut(
        party=party,
        delegations=[
            DelegationOut(delegate=d.delegate, purpose=d.purpose, offset=d.offset) for d in granted
        ],
    )


@router.get("/v1/parties/{party}/delegators", response_model=DelegatorsOut)
async def delegators(party: PartyId, _: Itself, delegations: DelegationsOf) -> DelegatorsOut:
    """Who delegated which purposes to the party, revoked delegations included."""
    return DelegatorsOut(
        delegate=party,
        delegators=[
            DelegatorOut(
                party=d.party,
                purpose=d.purpose,
                offset=d.offset,
                in_force=d.action is DelegationAction.GRANT,
            )
            for d in await delegations.to(party)
        ],
    )


@router.get("/v1/parties/{party}/decisions-for-others", response_model=DecisionsOut)
async def decisions_for_others(
    party: PartyId, _: Itself, delegations: DelegationsOf, kafka: Kafka, progress: Progress
) -> DecisionsOut:
    """Every decision the party recorded for others under their delegations, oldest first
    per party: each line's ``party`` is the one it was made for. Read from each
    delegator's history in Kafka, so a revoked delegation still shows what was done."""
    others = {d.party for d in await delegations.to(party)}
    histories = await parties_history(kafka, others)
    decisions: list[DecisionOut] = []
    for other in sorted(histories):
        decisions.extend(await _decisions(progress, histories[other], actor=party))
    return DecisionsOut(party=party, decisions=decisions)


@router.get("/v1/parties/{party}/chain", response_model=ChainOut)
async def chain(party: PartyId, _: Reader, kafka: Kafka) -> ChainOut:
    """Verify the party's hash chain end to end from Kafka; name the first broken link."""
    report = verify_chain(party, await party_records(kafka, party))
    broken, bad = report.first_broken, report.first_bad_signature
    return ChainOut(
        party=party,
        events=report.events,
        intact=report.intact,
        head=report.head,
        first_broken=None if broken is None else BrokenLinkOut(**asdict(broken)),
        first_bad_signature=None if bad is None else BadSignatureOut(**asdict(bad)),
        legacy=report.legacy,
    )

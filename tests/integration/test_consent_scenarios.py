"""DESIGN §2 scenarios on the real stack, and the enforcement events they cause."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from consentry_enforcer.settings import GROUP as ENFORCER
from consentry_events import CONSENT_CHANGES, EnforcementChanged
from consentry_stack.stack import Stack
from tests.support.http import await_answer, check, decide, register
from tests.support.ids import new_isrc, new_party, new_upc
from tests.support.log import Marks, accepted_at, enforcement_for, wait_consumed


def test_label_wide_opt_out_denies_all_its_tracks_even_ones_registered_later(stack: Stack) -> None:
    label, upc = new_party("label"), new_upc()
    early = [new_isrc(), new_isrc()]
    for isrc in early:
        register(stack, isrc, upc, [new_party(), label])
    for isrc in early:
        await_answer(stack, isrc, "ai.training", "allow")
    decide(stack, label, "ai.training", "deny", "party")
    for isrc in early:
        await_answer(stack, isrc, "ai.training", "deny")
    later = new_isrc()
    register(stack, later, new_upc(), [new_party(), label])
    answer = await_answer(stack, later, "ai.training", "deny")
    assert answer["reasons"][0]["summary"] == f"{label}, party-wide, ai.training"


def test_artist_track_opt_in_does_not_override_the_label_opt_out(stack: Stack) -> None:
    artist, label, isrc, upc = new_party(), new_party("label"), new_isrc(), new_upc()
    register(stack, isrc, upc, [artist, label])
    decide(stack, label, "ai", "deny", "party")
    decide(stack, artist, "ai.training", "allow", "track", isrc=isrc)
    answer = await_answer(stack, isrc, "ai.training", "deny")
    assert [r["party"] for r in answer["reasons"]] == [label]
    # The label then allows ai.training on the release: its release scope beats its party-wide.
    decide(stack, label, "ai.training", "allow", "release", upc=upc)
    allowed = await_answer(stack, isrc, "ai.training", "allow")
    assert {r["summary"] for r in allowed["reasons"]} == {
        f"{artist}, track {isrc}, ai.training",
        f"{label}, release {upc}, ai.training",
    }


def test_featured_artist_opt_out_denies_only_their_tracks(stack: Stack) -> None:
    main, featured, label, upc = new_party(), new_party(), new_party("label"), new_upc()
    solo, duet = new_isrc(), new_isrc()
    register(stack, solo, upc, [main, label])
    register(stack, duet, upc, [main, featured, label])
    decide(stack, featured, "ai.generation", "deny", "party")
    await_answer(stack, duet, "ai.generation.voice", "deny")
    await_answer(stack, duet, "ai.generation.stems", "deny")
    assert check(stack, solo, "ai.generation.stems")["answer"] == "allow"
    assert check(stack, duet, "ai.training")["answer"] == "allow"


def test_a_window_opens_on_time_without_any_new_event(stack: Stack) -> None:
    artist, isrc = new_party(), new_isrc()
    register(stack, isrc, new_upc(), [artist])
    opens = datetime.now(UTC) + timedelta(seconds=2)
    decide(stack, artist, "ai.dj", "deny", "track", isrc=isrc, effective_from=opens.isoformat())
    await_answer(stack, isrc, "ai.dj", "allow")
    answer = await_answer(stack, isrc, "ai.dj", "deny", timeout_s=6)
    assert datetime.now(UTC) >= opens
    assert answer["reasons"][0]["party"] == artist
    events = asyncio.run(
        enforcement_for(stack.kafka.bootstrap, {isrc}, lambda e: e.purpose == "ai.dj", count=1)
    )
    assert [(e.previous, e.answer) for e in events] == [("allow", "deny")]
    assert events[0].cause is None, "the window opened: no record caused it"


def test_enforcement_events_list_exactly_the_affected_tracks(stack: Stack) -> None:
    label, other_label = new_party("label"), new_party("label")
    ours = {new_isrc() for _ in range(4)}
    theirs = new_isrc()
    registered: Marks = {}
    for isrc in ours:
        registered |= accepted_at(register(stack, isrc, new_upc(), [new_party(), label]))
    registered |= accepted_at(register(stack, theirs, new_upc(), [new_party(), other_label]))
    for isrc in (*ours, theirs):
        await_answer(stack, isrc, "ai.generation", "allow")
    # The enforcer has met the tracks (their first answers are the defaults: nothing to
    # tell), so the opt-out's own events are the ones that name them.
    asyncio.run(wait_consumed(stack.kafka.bootstrap, ENFORCER, registered))
    accepted = decide(stack, label, "ai.generation", "deny", "party")
    for isrc in ours:
        await_answer(stack, isrc, "ai.generation.stems", "deny")

    def caused_by_the_opt_out(e: EnforcementChanged) -> bool:
        return e.cause is not None and (e.cause.topic, e.cause.partition, e.cause.offset) == (
            CONSENT_CHANGES.name,
            accepted["partition"],
            accepted["offset"],
        )

    # ai.generation.voice was already denied by default (opt-in), so it does not change.
    expected = {(isrc, p) for isrc in ours for p in ("ai.generation", "ai.generation.stems")}
    events = asyncio.run(
        enforcement_for(
            stack.kafka.bootstrap, {*ours, theirs}, caused_by_the_opt_out, count=len(expected)
        )
    )
    assert {(e.isrc, e.purpose) for e in events} == expected
    assert all(e.answer == "deny" and e.previous == "allow" for e in events)
    assert all(e.reasons == (f"{label}, party-wide, ai.generation",) for e in events)


def test_bad_input_changes_nothing(stack: Stack) -> None:
    artist, isrc = new_party(), new_isrc()
    register(stack, isrc, new_upc(), [artist])
    await_answer(stack, isrc, "ai.training", "allow")
    bad = [
        {"party": artist, "purpose": "ai.unknown", "choice": "deny", "scope": "party"},
        {"party": artist, "purpose": "ai.training", "choice": "deny", "scope": "release"},
        {
            "party": artist,
            "purpose": "ai.training",
            "choice": "deny",
            "scope": "party",
            "effective_from": "2030-01-02T00:00:00Z",
            "expires_at": "2030-01-01T00:00:00Z",
        },
        {
            "party": artist,
            "purpose": "ai.training",
            "choice": "deny",
            "scope": "track",
            "isrc": isrc,
            "upc": "5012345678900",
        },
    ]
    for body in bad:
        response = httpx.post(
            f"{stack.write_url}/v1/decisions", json=body, headers=stack.bearer(artist), timeout=10
        )
        assert response.status_code == 422, body
    # Nothing was recorded for the party (its history is its partition of the log, read
    # from Kafka; other writers -- the canary -- may use the topic meanwhile).
    history = httpx.get(
        f"{stack.write_url}/v1/parties/{artist}/history", headers=stack.bearer(artist), timeout=10
    ).json()
    assert history["decisions"] == []
    assert check(stack, isrc, "ai.training")["answer"] == "allow"

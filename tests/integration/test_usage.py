"""Usage metered against the consent of its moment, on the real stack: reports through
the check service, the meter's faust tables and their changelogs, the views a rights
holder reads through the write API."""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx

from consentry_stack.stack import Stack
from tests.support.eventually import eventually
from tests.support.http import SERVICE, await_answer, decide, register
from tests.support.ids import new_isrc, new_party, new_upc
from tests.support.usage import POOLS, await_units, report, settle, usage_of, use


def test_uses_are_judged_by_the_consent_of_their_moment(stack: Stack) -> None:
    artist, label, isrc = new_party(), new_party("label"), new_isrc()
    register(stack, isrc, new_upc(), [artist, label])
    await_answer(stack, isrc, "ai.training", "allow")
    before = datetime.now(UTC)  # the track is in the log: the check answered from it
    eventually(lambda: datetime.now(UTC) - before > timedelta(milliseconds=2), 1, "time passes")
    decide(stack, artist, "ai.training", "deny", "party")
    after = datetime.now(UTC)  # the decision is in the log: the write API answered
    await_answer(stack, isrc, "ai.training", "deny")

    # Reported after the opt-out: one for a moment before it (late, still allowed), one
    # for a moment after it (a violation), and the first again under its id (once).
    sent = report(stack, [use("u-before", isrc, before, "3"), use("u-after", isrc, after, "2")])
    assert sent.status_code == 202, sent.text
    assert sent.json()["accepted"] == 2
    again = report(stack, [use("u-before", isrc, before, "3")])
    assert again.status_code == 202, again.text

    for party in (artist, label):  # each holder counts the track's uses
        await_units(stack, party, before, allowed="3", violations="2")
    violations = httpx.get(
        f"{stack.write_url}/v1/parties/{label}/violations",
        headers=stack.bearer(label),
        timeout=10,
    ).json()["violations"]
    assert [(v["use"]["use_id"], v["use"]["isrc"]) for v in violations] == [("u-after", isrc)]
    assert artist in violations[0]["reasons"][0]


def test_bad_reports_are_refused_whole_with_their_reasons(stack: Stack) -> None:
    isrc, now = new_isrc(), datetime.now(UTC)
    stale = use("old", isrc, now - timedelta(days=400))
    unknown = use("what", isrc, now) | {"purpose": "ai.nonsense"}
    refused = report(stack, [use("fine", isrc, now), stale, unknown])
    assert refused.status_code == 422, refused.text
    kinds = {(tuple(e["loc"]), e["type"]) for e in refused.json()["detail"]["errors"]}
    assert kinds == {
        (("body", "uses", 1, "happened_at"), "too_late"),
        (("body", "uses", 2, "purpose"), "unknown_purpose"),
    }

    lopsided = httpx.post(
        f"{stack.check_url}/v1/attributions",
        json={
            "output_id": "song-1",
            "purpose": "ai.generation",
            "period": f"{now:%Y-%m}",
            "shares": [
                {"isrc": isrc, "side": "master", "share": "0.6"},
                {"isrc": new_isrc(), "side": "master", "share": "0.3"},
            ],
        },
        headers=stack.bearer(SERVICE),
        timeout=10,
    )
    assert lopsided.status_code == 422, lopsided.text
    assert "master shares sum to 0.9, not 1" in lopsided.text

    party = stack.token(new_party(), ["consentry-check"])  # a party, even for this audience
    by_party = httpx.post(
        f"{stack.check_url}/v1/usage",
        json={"uses": [use("mine", isrc, now)]},
        headers={"Authorization": f"Bearer {party}"},
        timeout=10,
    )
    assert by_party.status_code == 403, by_party.text


def test_a_rights_holder_reads_only_its_own_usage(stack: Stack) -> None:
    owner, stranger = new_party(), new_party()
    assert usage_of(stack, owner).status_code == 200
    refused = usage_of(stack, owner, reader=stranger)
    assert refused.status_code == 403, refused.text


def test_a_meter_killed_mid_period_loses_no_unit_and_counts_none_twice(stack: Stack) -> None:
    artist, isrc = new_party(), new_isrc()
    register(stack, isrc, new_upc(), [artist])
    await_answer(stack, isrc, "ai.training", "allow")
    now = datetime.now(UTC)
    assert report(stack, [use(f"k{n}", isrc, now) for n in range(50)]).status_code == 202
    await_units(stack, artist, now, allowed="50", violations="0")

    meter = stack.services["meter"]
    meter.signal(signal.SIGKILL)
    eventually(lambda: not meter.alive(), 10, "the meter died")
    # Sent while it is down: new uses, and half of them repeats of counted ones.
    repeats = [use(f"k{n}", isrc, now) for n in range(25)]
    fresh = [use(f"k{n}", isrc, now) for n in range(50, 80)]
    assert report(stack, repeats + fresh).status_code == 202
    meter.start()
    await_units(stack, artist, now, allowed="80", violations="0")


def test_a_months_statements_from_the_log_are_the_same_bytes_and_each_holder_reads_its_own(
    stack: Stack, tmp_path: Path
) -> None:
    artist, label, isrc = new_party(), new_party("label"), new_isrc()
    register(stack, isrc, new_upc(), [artist, label])
    await_answer(stack, isrc, "ai.training", "allow")
    now = datetime.now(UTC)
    period = f"{now:%Y-%m}"
    assert report(stack, [use("s1", isrc, now)]).status_code == 202
    await_units(stack, artist, now, allowed="1", violations="0")
    pools = tmp_path / "pools.toml"
    pools.write_text(POOLS)

    first = settle(stack, period, pools, tmp_path / "first")
    assert set(first) == {
        f"{period}-{pool}.{kind}" for pool in ("training", "outputs") for kind in ("json", "csv")
    }
    training = json.loads(first[f"{period}-training.json"])
    assert {artist, label} <= set(training["payouts"])
    assert sum(Decimal(v) for v in training["payouts"].values()) == Decimal("1000.00")
    store = stack.store.url_for("settle")
    again = settle(stack, period, pools, tmp_path / "again", "--publish", "--store", store)
    assert again == first

    def statements(party: str, reader: str, path: str = "", **params: str) -> httpx.Response:
        return httpx.get(
            f"{stack.write_url}/v1/parties/{party}/statements{path}",
            params=params,
            headers=stack.bearer(reader),
            timeout=10,
        )

    listed = statements(artist, artist)
    assert listed.status_code == 200, listed.text
    mine = {(s["period"], s["pool"]): s for s in listed.json()["statements"]}
    assert Decimal(mine[period, "training"]["payout"]) == Decimal(training["payouts"][artist])
    own = statements(artist, artist, f"/{period}/training")
    assert own.status_code == 200, own.text
    assert own.json()["payouts"] == {artist: training["payouts"][artist]}
    assert {line["party"] for line in own.json()["lines"]} == {artist}
    csv = statements(artist, artist, f"/{period}/training", format="csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert label not in csv.text, "nobody else's lines or payout"
    # Another holder of the same track, or a stranger, cannot read the artist's statement.
    for other in (label, new_party()):
        refused = statements(artist, other, f"/{period}/training")
        assert refused.status_code == 403, refused.text
        assert statements(artist, other).status_code == 403
    missing = statements(artist, artist, "/1999-01/training")
    assert missing.status_code == 404, missing.text

"""Issue 24 on the real stack: a label's DDEX ERN delivery imported -- through the bulk
endpoint and through ``consentry-admin import-ern`` -- makes its tracks checkable with
their rights holders and AI disclosure; a hostile or malformed message is refused naming
the element and nothing of it is registered; the same message again changes nothing; a
takedown retires the tracks; the label's own import records the deny its deals imply;
a rights holder states the disclosure of its own works, kept beside the delivery's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from consentry_stack.stack import Stack
from tests.support.eventually import eventually
from tests.support.http import ADMIN, CATALOGUE, await_answer, check

DATA = Path(__file__).parents[1] / "data" / "ern"
NINA, LABEL = "artist:isni-0000000466151234", "label:dpid-padpida2026nl01a"
ALBUM = ["GBNLR2600001", "GBNLR2600002", "GBNLR2600003"]


def post_ern(stack: Stack, name: str) -> httpx.Response:
    return httpx.post(
        f"{stack.write_url}/v1/catalogue/ern",
        content=(DATA / name).read_bytes(),
        headers={**stack.bearer(CATALOGUE), "Content-Type": "application/xml"},
        timeout=30,
    )


def settled(stack: Stack, isrc: str, purpose: str = "ai.dj") -> Any:
    def known() -> Any:
        found = check(stack, isrc, purpose)
        return found if found["reasons"][0]["basis"] != "unknown_track" else None

    return eventually(known, 10, f"{isrc} registered")


def test_an_ern_album_is_checkable_with_its_holders_and_disclosure(stack: Stack) -> None:
    first = post_ern(stack, "album-432.xml")
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["message_id"], body["version"], body["release"]) == (
        "NL-2026-0001-A",
        "4.3.2",
        "5012345678917",
    )
    assert body["tracks"]["written"] == 3
    answers = {isrc: settled(stack, isrc) for isrc in ALBUM}
    assert [answers[i]["disclosure"] for i in ALBUM] == ["none", "partly", "partly"]
    parties = {r["party"] for r in answers["GBNLR2600002"]["reasons"]}
    assert parties == {NINA, "artist:dpid-padpida2026nl01a-artist-kai", LABEL}
    again = post_ern(stack, "album-432.xml")
    assert again.status_code == 200, again.text
    assert (again.json()["tracks"]["written"], again.json()["tracks"]["unchanged"]) == (0, 3)

    stated = httpx.post(
        f"{stack.write_url}/v1/disclosures",
        json={
            "party": NINA,
            "works": ["GBNLR2600001"],
            "contains_ai": "all",
            "ai_credits": [{"role": "Vocalist", "contribution": "all"}],
        },
        headers=stack.bearer(NINA),
        timeout=15,
    )
    assert stated.status_code == 202, stated.text
    assert stated.json()["statement_id"]
    eventually(lambda: check(stack, "GBNLR2600001", "ai.dj")["disclosure"] == "all", 10, "stated")
    both = httpx.get(
        f"{stack.write_url}/v1/tracks/GBNLR2600001/disclosure", headers=stack.bearer(CATALOGUE)
    ).json()
    assert both == {
        "isrc": "GBNLR2600001",
        "disclosure": "all",
        "delivered": "none",
        "stated": {NINA: "all"},
    }
    mine = httpx.get(f"{stack.write_url}/v1/parties/{NINA}/disclosures", headers=stack.bearer(NINA))
    assert [s["contains_ai"] for s in mine.json()["statements"]] == ["all"]
    chain = httpx.get(
        f"{stack.write_url}/v1/parties/{NINA}/chain", headers=stack.bearer(NINA)
    ).json()
    assert chain["intact"], chain
    label_says = httpx.post(
        f"{stack.write_url}/v1/disclosures",
        json={"party": NINA, "works": ["GBNLR2600001"], "contains_ai": "none"},
        headers=stack.bearer(LABEL),
        timeout=15,
    )
    assert label_says.status_code == 403, "a holder states for itself only"
    stranger = httpx.post(
        f"{stack.write_url}/v1/disclosures",
        json={"party": "artist:someone-else", "works": ["GBNLR2600001"], "contains_ai": "none"},
        headers=stack.bearer("artist:someone-else"),
        timeout=15,
    )
    assert stranger.status_code == 403
    assert stranger.json()["detail"]["reason"] == "not_rights_holder"

    taken = post_ern(stack, "album-432-takedown.xml")
    assert taken.status_code == 200, taken.text
    assert taken.json()["taken_down"] is True
    eventually(
        lambda: check(stack, "GBNLR2600003", "ai.dj")["reasons"][0]["basis"] == "retired_track",
        10,
        "taken down",
    )


def test_a_hostile_or_malformed_message_registers_nothing(stack: Stack) -> None:
    for name in ("hostile/xxe.xml", "hostile/entity-bomb.xml", "hostile/missing-isrc.xml"):
        refused = post_ern(stack, name)
        assert refused.status_code == 422, refused.text
        error = refused.json()["detail"]["errors"][0]
        assert error["type"] == "invalid_ern"
        assert "line" in error["msg"]
    # missing-isrc.xml's other recordings were not registered either
    assert check(stack, "GBNLR2600001", "ai")["reasons"][0]["basis"] in (
        "retired_track",
        "decision",
        "default",
    )
    not_catalogue = httpx.post(
        f"{stack.write_url}/v1/catalogue/ern",
        content=(DATA / "single-43.xml").read_bytes(),
        headers=stack.bearer(NINA),
        timeout=30,
    )
    assert not_catalogue.status_code == 403


def test_the_admin_command_imports_files_and_the_labels_deals(stack: Stack, tmp_path: Path) -> None:
    parties = tmp_path / "parties.toml"
    parties.write_text('[parties]\n"name:Fjord Records" = "label:fjord"\n')
    single = DATA / "single-43.xml"
    streamed = tmp_path / "streaming-only.xml"  # the same label's release, no AI use type
    streamed.write_text(
        single.read_text()
        .replace("NOFJR2600007", "NOFJR2600008")
        .replace("7045678901231", "7045678901248")
        .replace("FJ-43-0007", "FJ-43-0008")
        .replace("<UseType>UseForGenerativeAI</UseType>", "")
    )
    label_token = stack.token("label:fjord")
    env = {
        **os.environ,
        "CONSENTRY_WRITE_URL": stack.write_url,
        "CONSENTRY_TOKEN": stack.token(ADMIN),
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "consentry_admin",
            "import-ern",
            str(single),
            str(streamed),
            str(DATA / "hostile" / "wrong-namespace.xml"),
            "--parties",
            str(parties),
            "--decide-as-label",
            label_token,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 1, run.stderr  # one message refused: the other imported
    assert "wrong-namespace.xml: NewReleaseMessage (line 7)" in run.stderr
    summary = json.loads(run.stdout)
    assert (summary["messages"], summary["refused"], summary["tracks"]) == (2, 1, 2)
    assert summary["decisions"] == 1, "one release's deals grant no AI use type"
    answer = settled(stack, "NOFJR2600007", "ai.training")
    assert answer["disclosure"] == "unknown", "ERN 4.3 carries no disclosure"
    assert {r["party"] for r in answer["reasons"]} == {"artist:anja-fjeld", "label:fjord"}
    assert answer["answer"] == "allow", "its deal grants UseForGenerativeAI: no deny"
    denied = await_answer(stack, "NOFJR2600008", "ai.training", "deny")
    assert denied["reasons"][0]["summary"] == "label:fjord, release 7045678901248, ai.training"


def test_in_a_delivered_folder_the_newer_message_wins_whatever_the_files_order(
    stack: Stack, tmp_path: Path
) -> None:
    """The album (created 30 Nov) and its takedown (5 Dec), as one folder, in either
    file order: the tracks end retired, and nothing is refused or dropped on the way."""
    for n, names in enumerate([("a.xml", "b.xml"), ("b.xml", "a.xml")]):
        prefix, icpn = f"GBNL{n}", f"501234567{n}917"
        folder = tmp_path / f"delivery-{n}"
        folder.mkdir()
        for name, source in zip(names, ["album-432.xml", "album-432-takedown.xml"], strict=True):
            text = (DATA / source).read_text().replace("GBNLR", prefix)
            (folder / name).write_text(text.replace("5012345678917", icpn))
        env = {
            **os.environ,
            "CONSENTRY_WRITE_URL": stack.write_url,
            "CONSENTRY_TOKEN": stack.token(CATALOGUE),
        }
        run = subprocess.run(
            [sys.executable, "-m", "consentry_admin", "import-ern", str(folder)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
        summary = json.loads(run.stdout)
        assert (summary["messages"], summary["refused"]) == (2, 0)
        assert summary["written"] + summary["superseded"] in (3, 6), summary
        for isrc in (f"{prefix}2600001", f"{prefix}2600003"):
            await_answer(stack, isrc, "ai.training", "deny")
            assert check(stack, isrc, "ai.training")["reasons"][0]["basis"] == "retired_track"

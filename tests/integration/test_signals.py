"""Issue 24's reservations out, on the real stack: served by the check service with the
headers a media server copies, generated for a catalogue site by ``consentry signals
site`` (kept current from the change feed), stamped into audio files with a signed C2PA
manifest -- and an opt-out changes all of them within 5 s. Two rights holders who
disagree give the restrictive signal."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from consentry_signals.devcert import signing_chain
from consentry_stack.stack import Stack
from tests.support.eventually import eventually
from tests.support.http import SERVICE, await_answer, decide, register
from tests.support.ids import new_isrc, new_party, new_upc
from tests.support.reservations import content_usage, dictionary, tdm_reservation

AUDIO = Path(__file__).parents[1] / "data" / "audio"


def served(stack: Stack, isrc: str) -> httpx.Response:
    return httpx.get(
        f"{stack.check_url}/v1/signals/{isrc}", headers=stack.bearer(SERVICE), timeout=10
    )


def consentry(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "consentry_sdk.cli", *args],
        capture_output=True,
        text=True,
        env=environment(stack),
        timeout=120,
    )


def environment(stack: Stack) -> dict[str, str]:
    return {
        **os.environ,
        "CONSENTRY_CHECK_REDIS_URL": stack.check_redis_url,
        "CONSENTRY_FEED_KAFKA_BOOTSTRAP": stack.kafka.bootstrap,
    }


def test_served_signals_follow_consent_most_restrictive_across_holders(stack: Stack) -> None:
    artist, label, isrc = new_party(), new_party("label"), new_isrc()
    register(stack, isrc, new_upc(), [artist, label])
    await_answer(stack, isrc, "ai.training", "allow")
    allowed = served(stack, isrc)
    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["tdm-reservation"] == "0"
    assert dictionary(allowed.headers["Content-Usage"])["train-ai"][0] == "y"
    assert allowed.json()["cawg"]["data"]["entries"]["cawg.ai_training"] == {"use": "allowed"}
    decide(stack, label, "ai.training", "allow", "party")
    decide(stack, artist, "ai.training", "deny", "track", isrc=isrc)  # they disagree

    def reserved() -> Any:
        found = served(stack, isrc)
        return found if found.headers["tdm-reservation"] == "1" else None

    denied = eventually(reserved, 5, "the served signal reserved within 5 s")
    assert dictionary(denied.headers["Content-Usage"])["train-ai"][0] == "n"
    entries = denied.json()["cawg"]["data"]["entries"]
    assert (
        entries["cawg.ai_training"]
        == entries["cawg.ai_generative_training"]
        == {"use": "notAllowed"}
    )
    assert entries["cawg.ai_inference"] == {"use": "allowed"}, "ai.generation is not denied"


def test_a_site_and_a_stamped_file_change_within_5_s_of_an_opt_out(
    stack: Stack, tmp_path: Path
) -> None:
    artist, upc = new_party(), new_upc()
    first, second = new_isrc(), new_isrc()
    for isrc in (first, second):
        register(stack, isrc, upc, [artist])
        await_answer(stack, isrc, "ai.training", "allow")
    folder = tmp_path / "dataset"  # a data pipeline stamps a whole folder in one call
    (folder / "b").mkdir(parents=True)
    audio, other = folder / f"{first}.wav", folder / "b" / f"{second}.mp3"
    shutil.copy(AUDIO / "tone.wav", audio)
    shutil.copy(AUDIO / "tone.mp3", other)
    (folder / "notes.txt").write_text("not audio: left alone")
    chain, key, _ = signing_chain(tmp_path)
    stamped = consentry(
        stack, "signals", "stamp", str(folder), "--cert", str(chain), "--key", str(key)
    )
    assert stamped.returncode == 0, stamped.stderr
    assert len(stamped.stdout.splitlines()) == 2, stamped.stdout
    read_back = consentry(stack, "signals", "read", str(folder)).stdout.splitlines()
    stamps = {line["file"]: line["stamp"] for line in map(json.loads, read_back)}
    assert sorted(stamps) == sorted([str(audio), str(other)])
    before = stamps[str(audio)]
    assert before["isrc"] == first
    assert stamps[str(other)]["isrc"] == second
    assert before["entries"]["cawg.ai_training"] == {"use": "allowed"}
    assert before["validation"] in ("Valid", "Trusted")
    assert consentry(stack, "signals", "stale", str(folder)).returncode == 0, "nothing changed"

    root = tmp_path / "site"
    follower = subprocess.Popen(
        [sys.executable, "-m", "consentry_sdk.cli", "signals", "site", "--out", str(root)],
        env=environment(stack),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        rules_file, robots_file = root / ".well-known" / "tdmrep.json", root / "robots.txt"
        eventually(
            lambda: rules_file.exists() and robots_file.exists(), 30, "the site's files written"
        )
        path = f"/music/{upc}/{first}"
        assert tdm_reservation(json.loads(rules_file.read_text()), path) in (None, 0)
        assert content_usage(robots_file.read_text(), path, "train-ai") == "y"

        decide(stack, artist, "ai.training", "deny", "party")  # both tracks out

        def site_reserved() -> bool:
            rules = json.loads(rules_file.read_text())
            robots = robots_file.read_text()
            return all(
                tdm_reservation(rules, f"/music/{upc}/{i}") == 1
                and content_usage(robots, f"/music/{upc}/{i}", "train-ai") == "n"
                for i in (first, second)
            )

        eventually(site_reserved, 5, "the site's files reserved within 5 s")
        assert len(json.loads(rules_file.read_text())) >= 1
        assert f"Content-Usage: /music/{upc}/ train-ai=n" in robots_file.read_text(), "one line"
    finally:
        follower.send_signal(signal.SIGINT)
        try:
            _, complaints = follower.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            follower.kill()
            follower.communicate()
            raise
        assert b"Traceback" not in complaints, complaints.decode()

    stale = consentry(stack, "signals", "stale", str(folder))
    assert stale.returncode == 1, stale.stderr
    assert stale.stdout.split() == sorted([str(audio), str(other)])
    again = consentry(
        stack, "signals", "stamp", str(folder), "--cert", str(chain), "--key", str(key)
    )
    assert again.returncode == 0, again.stderr
    after = json.loads(consentry(stack, "signals", "read", str(audio)).stdout)["stamp"]
    assert after["entries"]["cawg.ai_training"] == {"use": "notAllowed"}
    assert after["cursor"] != before["cursor"]
    assert consentry(stack, "signals", "stale", str(folder)).returncode == 0

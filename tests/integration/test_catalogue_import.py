"""Bulk catalogue import on the real stack: ``consentry-admin import`` through the write
API to Kafka and Redis -- per-line errors, the valid rest written, re-import unchanged."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from redis.asyncio import Redis

from consentry_admin.cli import main
from consentry_domain import Track
from consentry_events import CATALOGUE, TrackStatus
from consentry_events.tokens import parse_token
from consentry_kafka import KafkaConnection, LogEnds
from consentry_stack.stack import Stack
from consentry_state import StoredState
from tests.support.http import CATALOGUE as CATALOGUE_FEED
from tests.support.http import import_tracks
from tests.support.ids import new_isrc, new_party, new_upc
from tests.support.state import wait_applied

GOOD = 120


def _tracks(n: int) -> list[dict[str, Any]]:
    label = new_party("label")
    upc = new_upc()
    return [{"isrc": new_isrc(), "upc": upc, "parties": [new_party(), label]} for _ in range(n)]


def _run(stack: Stack, path: Path, *extra: str) -> tuple[int, dict[str, object], list[str]]:
    token = stack.token(CATALOGUE_FEED)
    result = CliRunner().invoke(
        main, ["import", str(path), "--url", stack.write_url, "--token", token, *extra]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    errors = [line for line in result.stderr.splitlines() if line.startswith("line ")]
    return result.exit_code, summary, errors


def _held(stack: Stack, summary: dict[str, object], isrcs: list[str]) -> dict[str, Track]:
    async def read() -> dict[str, Track]:
        marks: dict[tuple[str, int], int] = {}
        tokens = summary["tokens"]
        assert isinstance(tokens, list)
        for text in tokens:
            token = parse_token(text)
            marks[token.topic, token.partition] = token.offset
        redis = Redis.from_url(stack.redis.url)
        try:
            await wait_applied(redis, marks)
            return await StoredState(redis).tracks(isrcs)
        finally:
            await redis.aclose()

    return asyncio.run(read())


def _catalogue_end(stack: Stack) -> int:
    async def ends() -> int:
        log_ends = LogEnds(KafkaConnection(bootstrap=stack.kafka.bootstrap), 10)
        try:
            return sum((await log_ends.of_topic(CATALOGUE.name)).values())
        finally:
            await log_ends.close()

    return asyncio.run(ends())


def test_bad_lines_are_named_and_the_rest_written_then_a_reimport_writes_nothing(
    stack: Stack, tmp_path: Path
) -> None:
    tracks = _tracks(GOOD)
    lines = [json.dumps(t) for t in tracks]
    lines.insert(3, '{"isrc": "ZZ')  # line 4: not JSON
    lines.insert(7, json.dumps({**tracks[0], "isrc": new_isrc(), "upc": "12AB"}))  # line 8
    lines.insert(9, json.dumps(tracks[1]))  # line 10: the ISRC of line 2 again
    lines.insert(12, json.dumps({**tracks[2], "isrc": new_isrc(), "colour": "red"}))  # line 13
    lines.insert(14, "")  # blank: skipped, not an error
    path = tmp_path / "catalogue.jsonl"
    path.write_text("\n".join(lines) + "\n")

    code, summary, errors = _run(stack, path, "--batch", "50")

    assert code == 1
    assert (summary["written"], summary["unchanged"], summary["refused"]) == (GOOD, 0, 4)
    assert [e.split(":")[0] for e in errors] == ["line 4", "line 8", "line 10", "line 13"]
    assert "not JSON" in errors[0]
    assert errors[1].startswith("line 8: upc: String should match pattern")
    assert errors[2] == f"line 10: isrc: {tracks[1]['isrc']} is already item 1"
    assert errors[3].startswith("line 13: colour: Extra inputs are not permitted")
    isrcs = [str(t["isrc"]) for t in tracks]
    held = _held(stack, summary, isrcs)
    assert set(held) == set(isrcs)
    assert held[isrcs[5]].parties == tuple(tracks[5]["parties"])

    end = _catalogue_end(stack)
    code, again, _ = _run(stack, path)
    assert (again["written"], again["unchanged"], again["refused"]) == (0, GOOD, 4)
    assert again["tokens"] == []
    assert _catalogue_end(stack) == end, "an unchanged re-import appended to the catalogue log"


def test_csv_import_updates_only_what_changed(stack: Stack, tmp_path: Path) -> None:
    tracks = _tracks(30)
    path = tmp_path / "catalogue.csv"

    def write(rows: list[dict[str, Any]]) -> None:
        body = ["isrc,upc,parties,status"] + [
            f"{t['isrc']},{t['upc']},{';'.join(t['parties'])},{t.get('status', 'active')}"
            for t in rows
        ]
        path.write_text("\n".join(body) + "\n")

    write(tracks)
    code, first, errors = _run(stack, path)
    assert (code, first["written"], errors) == (0, 30, [])

    tracks[4] = {**tracks[4], "status": "retired"}
    tracks[9] = {**tracks[9], "parties": [*tracks[9]["parties"], new_party("publisher")]}
    tracks[12] = {**tracks[12], "parties": list(reversed(tracks[12]["parties"]))}
    write(tracks)
    code, second, errors = _run(stack, path)

    assert (code, second["written"], second["unchanged"], errors) == (0, 2, 28, [])
    held = _held(stack, second, [str(tracks[4]["isrc"]), str(tracks[9]["isrc"])])
    assert held[str(tracks[4]["isrc"])].status is TrackStatus.RETIRED
    assert len(held[str(tracks[9]["isrc"])].parties) == 3


def test_only_the_catalogue_feed_may_import(stack: Stack) -> None:
    artist = new_party()
    track = _tracks(1)[0]
    response = import_tracks(stack, [track], artist, timeout_s=15)
    assert response.status_code == 403, response.text
    assert response.json()["detail"]["reason"] == "catalogue_only"


def test_an_import_over_the_item_limit_is_refused_whole(stack: Stack) -> None:
    tracks = [{"isrc": "x"}] * 10_001
    response = import_tracks(stack, tracks, CATALOGUE_FEED, timeout_s=15)
    assert response.status_code == 422, response.text

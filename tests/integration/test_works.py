"""A party's works, as the portal lists them: releases and tracks with their titles,
paged by release, searchable by title, ISRC or UPC, and nobody else's."""

from __future__ import annotations

from typing import Any

import httpx

from consentry_stack.stack import Stack
from tests.support.eventually import eventually
from tests.support.http import CATALOGUE, import_tracks
from tests.support.ids import new_isrc, new_party, new_upc


def works(stack: Stack, party: str, reader: str, **query: str | int) -> httpx.Response:
    return httpx.get(
        f"{stack.write_url}/v1/parties/{party}/works",
        params=query,
        headers=stack.bearer(reader),
        timeout=10,
    )


def test_a_party_lists_and_searches_its_works(stack: Stack) -> None:
    label = new_party("label")
    first, second = sorted([new_upc(), new_upc()])
    tracks = [
        (new_isrc(), first, "Northern Lights", "Aurora"),
        (new_isrc(), first, "Polar Night", "Aurora"),
        (new_isrc(), second, "Midsummer", "Solstice"),
    ]
    for isrc, upc, title, release in tracks:
        body = {
            "isrc": isrc,
            "upc": upc,
            "parties": [new_party(), label],
            "title": title,
            "release_title": release,
        }
        response = httpx.post(
            f"{stack.write_url}/v1/tracks", json=body, headers=stack.bearer(CATALOGUE), timeout=10
        )
        assert response.status_code == 202, response.text

    def listed() -> dict[str, Any] | None:
        body: dict[str, Any] = works(stack, label, label).json()
        count = sum(len(r["tracks"]) for r in body["releases"])
        return body if count == 3 else None

    everything = eventually(listed, 20, "the label's three tracks listed")
    assert [r["upc"] for r in everything["releases"]] == [first, second]
    assert everything["releases"][0]["title"] == "Aurora"
    on_first = sorted(tracks[:2])  # tracks are listed by ISRC within a release
    assert [t["title"] for t in everything["releases"][0]["tracks"]] == [t[2] for t in on_first]
    paged = works(stack, label, label, limit=1).json()
    assert [r["upc"] for r in paged["releases"]] == [first]
    assert paged["next_offset"] == 1
    by_title = works(stack, label, label, q="polar").json()
    assert [t["isrc"] for r in by_title["releases"] for t in r["tracks"]] == [tracks[1][0]]
    by_release = works(stack, label, label, q="solstice").json()
    assert [r["upc"] for r in by_release["releases"]] == [second]
    by_isrc = works(stack, label, label, q=tracks[2][0]).json()
    assert [t["isrc"] for r in by_isrc["releases"] for t in r["tracks"]] == [tracks[2][0]]
    by_upc = works(stack, label, label, q=first).json()
    assert by_upc["releases_total"] == 1
    assert works(stack, label, new_party("label")).status_code == 403
    twice = httpx.get(
        f"{stack.write_url}/v1/parties/{label}/works",
        params=[("q", "polar"), ("q", "aurora")],
        headers=stack.bearer(label),
        timeout=10,
    )
    assert twice.status_code == 422, "which q would count is a guess: refused"


def test_titles_come_with_a_bulk_import(stack: Stack) -> None:
    label, upc = new_party("label"), new_upc()
    isrcs = sorted(new_isrc() for _ in range(3))
    items = [
        {
            "isrc": isrc,
            "upc": upc,
            "parties": [label],
            "title": f"Imported {n}",
            "release_title": "Bulk",
        }
        for n, isrc in enumerate(isrcs)
    ]
    response = import_tracks(stack, items)
    assert response.status_code == 200, response.text

    def titled() -> dict[str, Any] | None:
        body: dict[str, Any] = works(stack, label, label).json()
        tracks = [t for r in body["releases"] for t in r["tracks"]]
        return body if len(tracks) == 3 else None

    body = eventually(titled, 20, "the imported tracks listed")
    assert body["releases"][0]["title"] == "Bulk"
    assert [t["title"] for t in body["releases"][0]["tracks"]] == [
        "Imported 0",
        "Imported 1",
        "Imported 2",
    ]

"""Reservations out, read back as their readers would (``tests/support/reservations.py``,
written from the specifications): every track's generated TDMRep rule and robots.txt
``Content-Usage`` line say exactly its own consent, the output is no longer than needed
(one line for a release whose tracks agree), the ``Content-Usage`` header parses as an
RFC 9651 dictionary, and the CAWG assertion keeps its schema's rules."""

from __future__ import annotations

from typing import Any

from http_sf import Token
from hypothesis import given
from hypothesis import strategies as st

from consentry_signals.site import Placed, Urls, robots_txt, tdmrep
from consentry_signals.terms import CAWG_LABEL, Terms, signals
from tests.support.reservations import content_usage, dictionary, tdm_reservation

TERMS = Terms.load()
URLS = Urls()


def test_the_default_terms_map_training_to_every_format_and_generation_to_inference() -> None:
    assert TERMS.purposes == ["ai.generation", "ai.training"]
    denied = signals(TERMS, {"ai.training": True, "ai.generation": False})
    assert (denied.tdm_reservation, denied.content_usage) == (1, {"train-ai": "n"})
    assert denied.cawg == {
        "cawg.ai_generative_training": "notAllowed",
        "cawg.ai_inference": "allowed",
        "cawg.ai_training": "notAllowed",
    }
    assert signals(TERMS, {}).tdm_reservation == 1, "a purpose not checked is never claimed allowed"


def test_the_headers_a_media_server_copies() -> None:
    terms = Terms(("ai.training",), "https://example.com/policy.json", TERMS.aipref, TERMS.cawg)
    headers = signals(terms, {"ai.training": True, "ai.generation": True}).headers()
    assert headers["tdm-reservation"] == "1"
    assert headers["tdm-policy"] == "https://example.com/policy.json"
    usage = dictionary(headers["Content-Usage"])
    assert usage == {"train-ai": (Token("n"), {})}
    allowed = signals(terms, {"ai.training": False, "ai.generation": False}).headers()
    assert "tdm-policy" not in allowed, "a policy only comes with a reservation"
    assert dictionary(allowed["Content-Usage"])["train-ai"][0] == Token("y")


def _cawg_conforms(assertion: dict[str, Any]) -> None:
    """The CAWG 1.1 CDDL's rules, encoded: a map with ``entries``; each entry a map with
    ``use`` of the three choices and an optional non-empty ``constraint_info``; nothing
    else; the predefined keys spelled as the specification spells them."""
    assert assertion["label"] == CAWG_LABEL
    data = assertion["data"]
    assert set(data) <= {"entries", "metadata"}
    assert isinstance(data["entries"], dict)
    for key, entry in data["entries"].items():
        assert isinstance(key, str)
        assert key.startswith("cawg.")
        assert set(entry) <= {"use", "constraint_info"}
        assert entry["use"] in ("allowed", "notAllowed", "constrained")
        assert "constraint_info" not in entry or entry["constraint_info"]
    known = {
        "cawg.data_mining",
        "cawg.ai_inference",
        "cawg.ai_generative_training",
        "cawg.ai_training",
    }
    assert set(data["entries"]) <= known


def test_the_cawg_assertion_keeps_its_schema() -> None:
    for denied in (True, False):
        _cawg_conforms(
            signals(TERMS, {"ai.training": denied, "ai.generation": False}).cawg_assertion()
        )


catalogues = st.lists(
    st.tuples(st.integers(0, 3), st.booleans()), min_size=1, max_size=40
)  # (release, training denied) per track


def _placed(drawn: list[tuple[int, bool]]) -> list[Placed]:
    return [
        Placed(
            f"ZZSIG{n:07d}",
            f"00000000000{release}",
            signals(TERMS, {"ai.training": denied, "ai.generation": False}),
        )
        for n, (release, denied) in enumerate(drawn)
    ]


@given(catalogues)
def test_every_track_reads_back_its_own_reservation(drawn: list[tuple[int, bool]]) -> None:
    tracks = _placed(drawn)
    rules, robots = tdmrep(tracks, URLS), robots_txt(tracks, URLS)
    for p in tracks:
        path = URLS.of_track(p)
        assert (tdm_reservation(rules, path) or 0) == p.signals.tdm_reservation, path
        assert content_usage(robots, path, "train-ai") == p.signals.content_usage["train-ai"], path


@given(catalogues)
def test_the_output_is_no_longer_than_needed(drawn: list[tuple[int, bool]]) -> None:
    tracks = _placed(drawn)
    releases = {p.upc for p in tracks}
    rules = tdmrep(tracks, URLS)
    lines = [
        line for line in robots_txt(tracks, URLS).splitlines() if line.startswith("Content-Usage")
    ]
    for upc in releases:
        on = [p for p in tracks if p.upc == upc]
        minority = min(
            sum(p.signals.tdm_reservation for p in on),
            sum(1 - p.signals.tdm_reservation for p in on),
        )
        mine = [r for r in rules if r["location"].startswith(URLS.of_release(upc))]
        assert len(mine) <= minority + 1
        assert len([x for x in lines if URLS.of_release(upc) in x]) == minority + 1


def test_a_release_whose_tracks_agree_is_one_line_and_an_exception_comes_first() -> None:
    tracks = _placed([(1, True), (1, True), (1, True), (1, False)])
    rules = tdmrep(tracks, URLS)
    assert rules == [
        {"location": "/music/000000000001/ZZSIG0000003", "tdm-reservation": 0},
        {"location": "/music/000000000001/", "tdm-reservation": 1},
    ]
    assert robots_txt(tracks, URLS).splitlines()[2:] == [
        "Content-Usage: /music/000000000001/ train-ai=n",
        "Content-Usage: /music/000000000001/ZZSIG0000003 train-ai=y",
    ]


def test_templates_that_do_not_nest_get_a_line_per_track() -> None:
    flat = Urls(track="/tracks/{isrc}", release="/releases/{upc}/")
    tracks = _placed([(1, True), (1, True)])
    assert [r["location"] for r in tdmrep(tracks, flat)] == [
        "/tracks/ZZSIG0000000",
        "/tracks/ZZSIG0000001",
    ]

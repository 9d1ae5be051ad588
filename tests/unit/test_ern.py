"""The ERN reader and its mapping onto the catalogue, on files written for this project
from the standard (``tests/data/ern``): what is read from a 4.3.2 album (two discs, AI
disclosure on both levels, a generative-AI contributor, master shares), a 4.3 single
(disclosure unknown), a takedown; every hostile or malformed file refused whole, naming
the message, the element and its line; the label's decisions its deals imply."""

from __future__ import annotations

from pathlib import Path

import pytest

from consentry_ern import ErnError, read_message
from consentry_ern.catalogue import PartyRule, track_records
from consentry_ern.deals import label_decisions, load_use_types
from consentry_ern.read import MAX_BYTES

DATA = Path(__file__).parents[1] / "data" / "ern"
NINA, LABEL = "artist:isni-0000000466151234", "label:dpid-padpida2026nl01a"
KAI = "artist:dpid-padpida2026nl01a-artist-kai"


def read(name: str) -> list[dict[str, object]]:
    return track_records(read_message((DATA / name).read_bytes(), name), PartyRule())


def test_an_album_in_432_with_its_discs_disclosure_credits_and_shares() -> None:
    one, two, three = read("album-432.xml")
    assert [t["isrc"] for t in (one, two, three)] == [
        "GBNLR2600001",
        "GBNLR2600002",
        "GBNLR2600003",
    ]
    assert {t["upc"] for t in (one, two, three)} == {"5012345678917"}
    assert one["parties"] == [NINA, "artist:orla-wren", LABEL]
    assert two["parties"] == [NINA, KAI, LABEL], "a featured artist holding master rights"
    assert (one["contains_ai"], two["contains_ai"], three["contains_ai"]) == (
        "none",
        "partly",
        "partly",
    )
    assert two["ai_credits"] == [
        {"role": "MixingEngineer", "contribution": "all"},
        {"role": "Arranger", "contribution": "partly"},
    ]
    assert two["shares"] == [
        {"party": LABEL, "side": "master", "basis_points": 6000},
        {"party": KAI, "side": "master", "basis_points": 4000},
    ]
    assert three["shares"] == [], "no rights controller given: split equally"
    assert (one["title"], one["release_title"], one["status"]) == (
        "Harbour Lights",
        "Northern Songs",
        "active",
    )
    assert one["source"] == "ern:NL-2026-0001-A"


def test_a_43_message_imports_with_its_disclosure_unknown() -> None:
    (single,) = read("single-43.xml")
    assert single["parties"] == ["artist:anja-fjeld", "label:fjord-records"]
    assert (single["contains_ai"], single["ai_credits"]) == (None, [])


def test_a_release_sent_again_without_deals_is_taken_down() -> None:
    assert {t["status"] for t in read("album-432-takedown.xml")} == {"retired"}


@pytest.mark.parametrize(
    ("name", "element", "line", "reason"),
    [
        ("xxe.xml", "DOCTYPE", 2, "a DTD is not accepted"),
        ("entity-bomb.xml", "DOCTYPE", 2, "a DTD is not accepted"),
        ("wrong-namespace.xml", "NewReleaseMessage", 7, "is not ERN 4.3 or 4.3.2"),
        ("not-ern.xml", "rss", 2, "not a NewReleaseMessage"),
        (
            "missing-isrc.xml",
            "NewReleaseMessage/ResourceList/SoundRecording/SoundRecordingEdition/ResourceId/ISRC",
            52,
            "is missing",
        ),
        (
            "dangling-reference.xml",
            "NewReleaseMessage/ReleaseList/Release/ResourceGroup/ResourceGroup/ResourceGroupContentItem",
            114,
            "refers to A9",
        ),
    ],
)
def test_a_hostile_or_malformed_message_is_refused_naming_element_and_line(
    name: str, element: str, line: int, reason: str
) -> None:
    with pytest.raises(ErnError) as refused:
        read_message((DATA / "hostile" / name).read_bytes(), name)
    assert (refused.value.element, refused.value.line) == (element, line)
    assert reason in refused.value.reason
    assert refused.value.message_id in (name, "NL-2026-0001-A")


def test_a_file_over_the_limit_is_refused_unread() -> None:
    with pytest.raises(ErnError, match="larger than"):
        read_message(b" " * (MAX_BYTES + 1), "huge.xml")


def test_not_well_formed_xml_names_its_line() -> None:
    with pytest.raises(ErnError) as refused:
        read_message(b'<?xml version="1.0"?>\n<a>\n<b></a>', "broken.xml")
    assert refused.value.line == 3
    assert "not well-formed" in refused.value.reason


def test_the_party_rule_names_delivered_parties_as_configured(tmp_path: Path) -> None:
    table = tmp_path / "parties.toml"
    table.write_text(
        '[parties]\n"isni:0000000466151234" = "artist:nina-vale"\n'
        '"dpid:PADPIDA2026NL01A" = "label:northern-lights"\n"name:Orla Wren" = "artist:orla"\n'
    )
    message = read_message((DATA / "album-432.xml").read_bytes())
    one = track_records(message, PartyRule.load(table))[0]
    assert one["parties"] == ["artist:nina-vale", "artist:orla", "label:northern-lights"]


def test_deals_without_an_ai_training_use_type_are_the_labels_deny() -> None:
    use_types = load_use_types()
    album = read_message((DATA / "album-432.xml").read_bytes())
    assert label_decisions(album, PartyRule(), use_types) == [
        {
            "party": LABEL,
            "purpose": "ai.training",
            "choice": "deny",
            "scope": "release",
            "upc": "5012345678917",
        }
    ]
    single = read_message((DATA / "single-43.xml").read_bytes())
    assert label_decisions(single, PartyRule(), use_types) == [], (
        "its deal grants UseForGenerativeAI"
    )


def test_two_recordings_with_one_isrc_are_refused() -> None:
    text = (DATA / "album-432.xml").read_text().replace("GBNLR2600003", "GBNLR2600001")
    with pytest.raises(ErnError, match="are both GBNLR2600001"):
        track_records(read_message(text.encode()), PartyRule.load(None))

"""A catalogue import's plan and file reading: every item accounted for once, unchanged
tracks left alone, a repeated ISRC refused, bad lines named by number."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentry_admin.catalogue_file import CatalogueFileError, Item, LineError, read_items
from consentry_domain import Track
from consentry_domain.catalogue_import import Refusal, plan_import
from consentry_events import TrackStatus

ISRCS = st.sampled_from([f"ZZAAA{n:07d}" for n in range(8)])
PARTIES = st.lists(st.sampled_from(["artist:a", "label:b", "publisher:c"]), min_size=1, unique=True)


@st.composite
def tracks(draw: st.DrawFn) -> Track:
    status = draw(st.sampled_from(list(TrackStatus)))
    upc = draw(st.sampled_from(["000000000001", "000000000002"]))
    return Track(draw(ISRCS), upc, tuple(draw(PARTIES)), status)


ITEMS = st.lists(tracks() | st.builds(Refusal, st.integers(0, 99), st.just("upc"), st.just("bad")))


@given(ITEMS, st.none() | st.dictionaries(ISRCS, tracks()))
def test_every_item_is_written_unchanged_or_refused_exactly_once(
    items: list[Track | Refusal], held: dict[str, Track] | None
) -> None:
    held = None if held is None else {isrc: t for isrc, t in held.items()}
    plan = plan_import(items, held)
    assert len(plan.write) + len(plan.unchanged) + len(plan.refused) == len(items)
    kept = [t.isrc for t in plan.write] + list(plan.unchanged)
    assert len(kept) == len(set(kept)), "an ISRC written or skipped twice"
    if held is None:
        assert plan.unchanged == ()


def test_unchanged_ignores_the_order_of_parties_and_nothing_else() -> None:
    held = {"ZZAAA0000001": Track("ZZAAA0000001", "000000000001", ("artist:a", "label:b"))}
    same = Track("ZZAAA0000001", "000000000001", ("label:b", "artist:a"))
    retired = Track("ZZAAA0000001", "000000000001", ("artist:a", "label:b"), TrackStatus.RETIRED)
    assert plan_import([same], held).unchanged == ("ZZAAA0000001",)
    assert plan_import([retired], held).write == (retired,)
    assert plan_import([same], None).write == (same,)


def test_a_repeated_isrc_is_refused_on_its_second_item() -> None:
    first = Track("ZZAAA0000001", "000000000001", ("artist:a",))
    second = Track("ZZAAA0000001", "000000000002", ("artist:a",))
    plan = plan_import([first, second], {})
    assert plan.write == (first,)
    assert plan.refused == (Refusal(1, "isrc", "ZZAAA0000001 is already item 0"),)


def test_jsonl_lines_that_are_not_records_are_named(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"isrc": "A"}\n\n[1, 2]\n{"isrc": \n{"isrc": "B"}\n')
    found = list(read_items(path))
    assert found[0] == Item(1, {"isrc": "A"})
    assert found[1] == LineError(3, "(line)", "expected a JSON object")
    assert isinstance(found[2], LineError)
    assert found[2].line == 4
    assert found[3] == Item(5, {"isrc": "B"})


def test_csv_rows_become_records_with_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "isrc,upc,parties,status\n"
        "ZZAAA0000001,000000000001,artist:a; label:b,\n"
        "ZZAAA0000002,000000000001\n"
        "ZZAAA0000003,000000000001,artist:a,retired\n"
    )
    found = list(read_items(path))
    assert found == [
        Item(
            2, {"isrc": "ZZAAA0000001", "upc": "000000000001", "parties": ["artist:a", "label:b"]}
        ),
        LineError(3, "(line)", "2 columns, the header has 4"),
        Item(
            4,
            {
                "isrc": "ZZAAA0000003",
                "upc": "000000000001",
                "parties": ["artist:a"],
                "status": "retired",
            },
        ),
    ]


def test_a_csv_without_the_needed_columns_is_refused_whole(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("isrc,title\nZZAAA0000001,x\n")
    with pytest.raises(CatalogueFileError, match="lacks the column"):
        list(read_items(path))

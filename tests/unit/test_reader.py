"""What the enforcer may skip: a track no decision can apply to answers the default."""

from __future__ import annotations

from consentry_domain import Verdict, load_taxonomy, resolve
from consentry_state.reader import Read

TAXONOMY = load_taxonomy()
GROUP = "|ai.training|7|7,d,AAAAAAAAAAAAAAAAAAAAAA,,"
"""A slot group line: a deny of ``ai.training`` at offset 7 (party empty: a party's own)."""


def read(tracks: dict[str, str | None], releases: dict[str, str], parties: dict[str, str]) -> Read:
    return Read(list(tracks), None, None, list(tracks.values()), dict(releases), dict(parties))


def test_only_known_active_tracks_with_no_group_anywhere_are_without_decisions() -> None:
    found = read(
        {
            "ZZRDR0000001": "1|000000000001|a|artist:a label:l||",  # nothing anywhere
            "ZZRDR0000002": "2|000000000001|a|artist:b label:m||",  # label:m has a group
            "ZZRDR0000003": "3|000000000002|a|artist:a||",  # its release has a group
            "ZZRDR0000004": "4|000000000001|a|artist:a||\nartist:a" + GROUP,  # its own slots
            "ZZRDR0000005": "5|000000000001|r|artist:a||",  # retired: answers deny
            "ZZRDR0000006": None,  # unknown: answers deny
            "ZZRDR0000007": "\nartist:a" + GROUP,  # only decisions arrived, no record
        },
        {"000000000002": "artist:a" + GROUP},
        {"label:m": GROUP},
    )
    assert found.without_decisions() == {"ZZRDR0000001"}


def test_and_every_answer_about_such_a_track_is_the_purpose_default() -> None:
    found = read({"ZZRDR0000001": "1|000000000001|a|artist:a label:l publisher:p||"}, {}, {})
    assert found.without_decisions() == {"ZZRDR0000001"}
    for purpose, default in TAXONOMY.defaults.items():
        view = found.views(purpose)["ZZRDR0000001"]
        assert view is not None
        answer = resolve("ZZRDR0000001", purpose, view.track, view.candidates, TAXONOMY, 0)
        assert answer.verdict is Verdict(default), purpose

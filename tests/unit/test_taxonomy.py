"""The purpose taxonomy is configuration, validated on load."""

from __future__ import annotations

import pytest

from consentry_domain import TaxonomyError, Verdict, load_taxonomy
from consentry_domain.purposes import ancestors, covers, parse_taxonomy


def test_the_demo_taxonomy_allows_training_by_default_and_voice_only_by_opt_in() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.default("ai.training") is Verdict.ALLOW
    assert taxonomy.default("ai.generation.voice") is Verdict.DENY


def test_a_purpose_covers_itself_and_its_descendants_only() -> None:
    assert covers("ai.generation", "ai.generation.voice")
    assert covers("ai", "ai")
    assert not covers("ai.gen", "ai.generation")
    assert ancestors("ai.generation.voice") == ("ai", "ai.generation", "ai.generation.voice")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[purposes]\n"ai.training" = "allow"\n', "parent 'ai' is not"),
        ('[purposes]\n"ai" = "maybe"\n', "default must be 'allow' or 'deny'"),
        ('"ai" = "allow"\n', r"need a \[purposes\] table"),
    ],
)
def test_bad_taxonomies_are_refused(text: str, problem: str) -> None:
    with pytest.raises(TaxonomyError, match=problem):
        parse_taxonomy(text)

"""The authorisation rules as pure functions (the real-stack matrix is in integration)."""

from __future__ import annotations

import pytest

from consentry_auth import Principal
from consentry_events import Authority
from consentry_http import Refused
from consentry_writeapi.authorise import Grant, may_decide, needs_grants


def test_a_grant_covers_its_purpose_and_those_under_it_only() -> None:
    grant = Grant("label:l", "ai.generation")
    assert grant.covers("ai.generation")
    assert grant.covers("ai.generation.voice")
    assert not grant.covers("ai")
    assert not grant.covers("ai.generationx")
    assert not grant.covers("ai.training")


def test_a_grant_names_one_delegate() -> None:
    grants = [Grant("label:l", "ai")]
    assert may_decide(Principal("label:l"), "artist:a", "ai.dj", grants) is Authority.DELEGATE
    with pytest.raises(Refused) as refused:
        may_decide(Principal("label:m"), "artist:a", "ai.dj", grants)
    assert refused.value.reason == "not_own_party"


def test_a_party_kind_is_not_a_privilege() -> None:
    """``admin`` is reserved; a party called ``administrator:x`` is just a party."""
    with pytest.raises(Refused):
        may_decide(Principal("administrator:x"), "artist:a", "ai", [])
    assert may_decide(Principal("admin:x"), "artist:a", "ai", []) is Authority.ADMIN


SUBJECTS = ["artist:a", "label:l", "admin:x", "catalogue:c", "service:s"]


@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize("party", ["artist:a", "label:l"])
def test_the_delegations_are_read_only_when_they_can_change_the_answer(
    subject: str, party: str
) -> None:
    """Where ``needs_grants`` says no, deciding with no grants answers exactly as with
    every grant there is."""
    every = [Grant(subject, "ai"), Grant("label:l", "ai"), Grant("artist:a", "ai")]
    principal = Principal(subject)

    def outcome(grants: list[Grant]) -> Authority | str:
        try:
            return may_decide(principal, party, "ai.dj", grants)
        except Refused as refused:
            return refused.reason

    if not needs_grants(principal, party):
        assert outcome([]) == outcome(every)
    else:
        assert outcome(every) is Authority.DELEGATE
        assert outcome([]) == "not_own_party"

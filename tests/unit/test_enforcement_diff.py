"""The enforcement diff: publish every changed answer, never an unchanged one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from consentry_domain import Answer, Basis, Reason, Verdict, load_taxonomy
from consentry_domain.enforcement import Change, enforcement_diff, purposes_affected
from consentry_enforcer.enforce import Enforcer
from consentry_events import EnforcementCause, EnforcementChanged

VERDICTS = st.sampled_from(list(Verdict))
BASES = st.sampled_from([Basis.DECISION, Basis.DEFAULT, Basis.UNKNOWN_TRACK, Basis.RETIRED_TRACK])


def answer(isrc: str, verdict: Verdict, basis: Basis = Basis.DECISION) -> Answer:
    return Answer(isrc, "ai.training", verdict, (Reason(basis, verdict),))


@st.composite
def situations(draw: st.DrawFn) -> tuple[list[Answer], dict[str, Verdict | None]]:
    isrcs = draw(st.lists(st.from_regex(r"ZZ[A-Z]{3}[0-9]{7}", fullmatch=True), unique=True))
    answers = [answer(i, draw(VERDICTS), draw(BASES)) for i in isrcs]
    published = {i: draw(st.none() | VERDICTS) for i in isrcs}
    return answers, published


def test_a_change_is_published_with_what_was_published_before() -> None:
    diff = enforcement_diff(
        [answer("T1", Verdict.DENY), answer("T2", Verdict.ALLOW)],
        {"T1": Verdict.ALLOW, "T2": Verdict.ALLOW},
        Verdict.ALLOW,
    )
    assert [(c.answer.isrc, c.previous) for c in diff.changes] == [("T1", Verdict.ALLOW)]
    assert diff.to_record() == {"T1": Verdict.DENY}


def test_a_first_answer_is_told_only_when_it_is_not_the_default() -> None:
    new = answer("T1", Verdict.ALLOW, Basis.DEFAULT)
    opted_out = answer("T2", Verdict.DENY)  # its label had opted out before it was registered
    unknown = answer("T3", Verdict.DENY, Basis.UNKNOWN_TRACK)
    diff = enforcement_diff([new, opted_out, unknown], {"T1": None, "T2": None}, Verdict.ALLOW)
    assert [(c.answer, c.previous) for c in diff.changes] == [(opted_out, Verdict.ALLOW)]
    assert diff.to_record() == {"T2": Verdict.DENY}


def test_an_answer_back_at_the_default_is_told_and_forgotten() -> None:
    back = answer("T1", Verdict.ALLOW)
    diff = enforcement_diff([back], {"T1": Verdict.DENY}, Verdict.ALLOW)
    assert [(c.answer, c.previous) for c in diff.changes] == [(back, Verdict.DENY)]
    assert diff.to_record() == {"T1": None}


@given(situations(), VERDICTS)
def test_never_an_unchanged_answer_and_never_a_changed_one_skipped(
    situation: tuple[list[Answer], dict[str, Verdict | None]], assumed: Verdict
) -> None:
    """Against what downstream believes -- the last published answer, else the default
    -- every difference is published and nothing else; afterwards what is kept says
    exactly what downstream believes."""
    answers, published = situation
    diff = enforcement_diff(answers, published, assumed)

    def believed(isrc: str, kept: dict[str, Verdict | None]) -> Verdict:
        return kept.get(isrc) or assumed

    known = [a for a in answers if a.reasons[0].basis is not Basis.UNKNOWN_TRACK]
    changed = {a.isrc for a in known if a.verdict is not believed(a.isrc, published)}
    assert {c.answer.isrc for c in diff.changes} == changed
    for change in diff.changes:
        assert change.previous is believed(change.answer.isrc, published)
        assert change.answer.verdict is not change.previous
    kept = {**published, **diff.to_record()}
    for a in known:
        assert believed(a.isrc, kept) is a.verdict
    assert all(v is not assumed for v in diff.to_record().values()), "defaults are not kept"


def test_a_decision_reaches_its_purpose_and_every_purpose_under_it() -> None:
    taxonomy = load_taxonomy()
    assert purposes_affected(taxonomy, "ai.generation") == [
        "ai.generation",
        "ai.generation.stems",
        "ai.generation.voice",
    ]
    assert purposes_affected(taxonomy, "ai.dj") == ["ai.dj"]


@given(
    st.from_regex(r"[A-Z]{2}[A-Z0-9]{3}[0-9]{7}", fullmatch=True),
    VERDICTS,
    VERDICTS,
    BASES,
    st.none() | st.tuples(st.integers(0, 5), st.integers(0, 10**9)),
)
def test_the_enforcer_builds_events_that_validate(
    isrc: str, verdict: Verdict, previous: Verdict, basis: Basis, where: tuple[int, int] | None
) -> None:
    """The enforcer builds its events without validation (for speed): each one must be
    exactly what validating the same fields gives, and survive a round trip."""
    reason = Reason(basis, verdict, party="label:l", purpose="ai.training")
    change = Change(Answer(isrc, "ai.training", verdict, (reason,)), previous)
    cause = (
        None if where is None else EnforcementCause(topic="t", partition=where[0], offset=where[1])
    )
    built = Enforcer._event(change, cause)
    checked = EnforcementChanged.model_validate(built.model_dump())
    assert checked.model_dump() == built.model_dump()
    assert EnforcementChanged.model_validate_json(built.model_dump_json()) == checked

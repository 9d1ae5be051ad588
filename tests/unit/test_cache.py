"""The SDK cache never serves past its bound, after an invalidation, or while deaf."""

from __future__ import annotations

from consentry_domain import Answer, Basis, Reason, Verdict
from consentry_sdk.cache import AnswerCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def allow(isrc: str = "GBAAA0000001", purpose: str = "ai.training") -> Answer:
    return Answer(isrc, purpose, Verdict.ALLOW, (Reason(Basis.DEFAULT, Verdict.ALLOW),))


def live_cache(bound_s: float = 1.0) -> tuple[AnswerCache, Clock]:
    clock = Clock()
    cache = AnswerCache(bound_s, clock=clock)
    cache.hearing()
    return cache, clock


def test_an_entry_is_served_until_the_bound_and_never_after() -> None:
    cache, clock = live_cache(1.0)
    cache.put(allow(), ["t:GBAAA0000001", "p:artist:a"], cache.generation)
    clock.now += 0.999
    assert cache.get("GBAAA0000001", "ai.training") == allow()
    clock.now += 0.001
    assert cache.get("GBAAA0000001", "ai.training") is None


def test_a_window_boundary_shortens_the_life_of_an_entry() -> None:
    cache, clock = live_cache(1.0)
    cache.put(allow(), ["t:GBAAA0000001"], cache.generation, valid_until=clock.now + 0.2)
    clock.now += 0.2
    assert cache.get("GBAAA0000001", "ai.training") is None


def test_an_invalidated_entry_is_never_served() -> None:
    cache, _ = live_cache()
    cache.put(allow(), ["t:GBAAA0000001", "p:artist:a"], cache.generation)
    cache.put(allow(purpose="ai.dj"), ["t:GBAAA0000001", "p:artist:a"], cache.generation)
    cache.put(allow("GBAAA0000002"), ["t:GBAAA0000002", "p:artist:b"], cache.generation)
    cache.invalidate("p:artist:a")
    assert cache.get("GBAAA0000001", "ai.training") is None
    assert cache.get("GBAAA0000001", "ai.dj") is None
    assert cache.get("GBAAA0000002", "ai.training") is not None


def test_an_answer_read_across_an_invalidation_is_not_stored() -> None:
    cache, _ = live_cache()
    read_at = cache.generation
    cache.invalidate("p:artist:a")  # arrived while the answer was being read
    cache.put(allow(), ["t:GBAAA0000001", "p:artist:a"], read_at)
    assert cache.get("GBAAA0000001", "ai.training") is None


def test_nothing_is_served_or_stored_while_the_subscription_is_down() -> None:
    cache, _ = live_cache()
    cache.put(allow(), ["t:GBAAA0000001"], cache.generation)
    cache.deaf()
    assert cache.get("GBAAA0000001", "ai.training") is None
    cache.put(allow(), ["t:GBAAA0000001"], cache.generation)
    cache.hearing()
    assert cache.get("GBAAA0000001", "ai.training") is None, "resubscribing starts empty"

"""Bearer tokens: what verifies, what does not, and that remembering one changes nothing."""

from __future__ import annotations

import time

import pytest

from consentry_auth import (
    CHECK_AUDIENCE,
    WRITE_AUDIENCE,
    AuthError,
    Issuer,
    Principal,
    PrincipalKind,
    Verifier,
    generate_keys,
)
from consentry_auth import tokens as tokens_module

PRIVATE, PUBLIC = generate_keys()


def test_a_token_names_its_principal_and_kind() -> None:
    token = Issuer(PRIVATE).issue("service:ai-dj", [CHECK_AUDIENCE])
    principal = Verifier(PUBLIC, CHECK_AUDIENCE).verify(token)
    assert principal == Principal("service:ai-dj")
    assert principal.kind is PrincipalKind.SERVICE
    assert Principal("label:4ad").kind is PrincipalKind.PARTY


class _Clock:
    def __init__(self, now: float) -> None:
        self._now = now

    def time(self) -> float:
        return self._now


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    verifier = Verifier(PUBLIC, WRITE_AUDIENCE, leeway_s=0)
    token = Issuer(PRIVATE).issue("artist:x", [WRITE_AUDIENCE], ttl_s=60)
    assert verifier.verify(token) == Principal("artist:x")  # now remembered
    later = time.time() + 61
    monkeypatch.setattr(tokens_module, "time", _Clock(later))
    with pytest.raises(AuthError) as refused:
        verifier.verify(token)
    assert refused.value.reason == "expired"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (Issuer(PRIVATE).issue("artist:x", [CHECK_AUDIENCE]), "wrong_audience"),
        (Issuer(generate_keys()[0]).issue("artist:x", [WRITE_AUDIENCE]), "bad_signature"),
        ("e30.e30.e30", "malformed"),
    ],
)
def test_bad_tokens_are_refused_every_time(token: str, reason: str) -> None:
    verifier = Verifier(PUBLIC, WRITE_AUDIENCE)
    for _ in range(2):  # a refusal is never remembered as a success
        with pytest.raises(AuthError) as refused:
            verifier.verify(token)
        assert refused.value.reason == reason

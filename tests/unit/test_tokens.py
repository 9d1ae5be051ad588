"""Bearer tokens: what verifies, what does not, and that remembering one changes nothing."""

from __future__ import annotations

import os
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from consentry_auth import (
    CHECK_AUDIENCE,
    PORTAL_AUDIENCE,
    WRITE_AUDIENCE,
    AuthError,
    Issuer,
    Principal,
    PrincipalKind,
    Verifier,
    generate_keys,
    keyset,
    verify_login_link,
)
from consentry_auth import tokens as tokens_module
from consentry_auth.keyset import KeySet, key_set_json, parse_keys

PRIVATE, PUBLIC = generate_keys()


def forged() -> str:
    """Signed by another key, but naming the trusted key's id."""
    trusted = Issuer(PRIVATE).key_id
    claims = jwt.decode(
        Issuer(generate_keys()[0]).issue("artist:x", [WRITE_AUDIENCE]),
        options={"verify_signature": False},
    )
    other = serialization.load_pem_private_key(generate_keys()[0], password=None)
    return jwt.encode(claims, other, algorithm="EdDSA", headers={"kid": trusted})  # type: ignore[arg-type]


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
        (Issuer(generate_keys()[0]).issue("artist:x", [WRITE_AUDIENCE]), "unknown_key"),
        (forged(), "bad_signature"),
        ("e30.e30.e30", "malformed"),
    ],
)
def test_bad_tokens_are_refused_every_time(token: str, reason: str) -> None:
    verifier = Verifier(PUBLIC, WRITE_AUDIENCE)
    for _ in range(2):  # a refusal is never remembered as a success
        with pytest.raises(AuthError) as refused:
            verifier.verify(token)
        assert refused.value.reason == reason


def test_a_login_link_signs_a_party_in_once_within_its_minutes() -> None:
    portal = Verifier(PUBLIC, PORTAL_AUDIENCE)
    link = Issuer(PRIVATE).login_link("artist:nina-vale", session_s=3600, link_s=600)
    claims = verify_login_link(portal, link)
    assert claims.party == Principal("artist:nina-vale")
    assert claims.link_expires - time.time() <= 600
    assert claims.expires - time.time() > 3000
    other = Issuer(PRIVATE).login_link("artist:nina-vale")
    assert verify_login_link(portal, other).link_id != claims.link_id, "each link its own id"
    # the same token is the party's write token for the session: the write API takes it
    assert Verifier(PUBLIC, WRITE_AUDIENCE).verify(link) == Principal("artist:nina-vale")

    stale = Issuer(PRIVATE).login_link("artist:nina-vale", link_s=-1)
    with pytest.raises(AuthError, match="expired"):
        verify_login_link(portal, stale)
    with pytest.raises(AuthError) as not_a_party:
        Issuer(PRIVATE).login_link("service:ai-dj")
    assert not_a_party.value.reason == "bad_subject"
    plain = Issuer(PRIVATE).issue("artist:nina-vale", [WRITE_AUDIENCE])
    with pytest.raises(AuthError) as wrong:
        verify_login_link(portal, plain)
    assert wrong.value.reason == "wrong_audience"


def test_keys_rotate_without_a_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key set file read again when it changes: a key added verifies at once, the old
    one's tokens keep working, a retired key's tokens are refused; a token from before
    key ids verifies against any trusted key."""
    old_private, old_public = PRIVATE, PUBLIC
    new_private, new_public = generate_keys()
    old, new = Issuer(old_private), Issuer(new_private)
    monkeypatch.setattr(keyset, "LOOK_EVERY_S", 0.0)  # look at the file on every check
    path = tmp_path / "keys.json"
    path.write_bytes(old_public)  # one PEM key to start with
    verifier = Verifier(KeySet(path), WRITE_AUDIENCE)
    before = old.issue("artist:x", [WRITE_AUDIENCE])
    assert verifier.verify(before).subject == "artist:x"
    with pytest.raises(AuthError, match=r"not \(or no more\) trusted"):
        verifier.verify(new.issue("artist:y", [WRITE_AUDIENCE]))

    both = parse_keys(old_public) | parse_keys(new_public)
    rewrite(path, key_set_json(both))
    assert verifier.verify(new.issue("artist:y", [WRITE_AUDIENCE])).subject == "artist:y"
    assert verifier.verify(before).subject == "artist:x", "old tokens keep working"

    rewrite(path, key_set_json(parse_keys(new_public)))
    with pytest.raises(AuthError) as refused:
        verifier.verify(before)
    assert refused.value.reason == "unknown_key", "a retired key's tokens are refused"

    claims = jwt.decode(before, options={"verify_signature": False})
    legacy = jwt.encode(
        claims,
        serialization.load_pem_private_key(new_private, password=None),  # type: ignore[arg-type]
        algorithm="EdDSA",
    )
    assert verifier.verify(legacy).subject == "artist:x", "no kid: any trusted key"

    rewrite(path, '{"keys": null}')  # a broken file keeps the keys the service had
    assert verifier.verify(new.issue("artist:y", [WRITE_AUDIENCE])).subject == "artist:y"


def rewrite(path: Path, text: str) -> None:
    """Replace the file, its modification time surely later than before."""
    path.write_text(text)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))

"""Issue 26: rotating the token-signing key on a running stack, without a restart.
``consentry-admin keys add`` puts a new public key in the key set the services read;
within a second tokens and login links of the new key work, the old key's keep working,
a key nobody trusts is refused, and once a key is retired its tokens are refused. (The
test retires the new key again, so the stack's own tokens stay good for other tests.)"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from consentry_auth import (
    CHECK_AUDIENCE,
    WRITE_AUDIENCE,
    Issuer,
    generate_keys,
    key_set_json,
    parse_keys,
)
from consentry_stack.stack import Stack
from tests.support.eventually import eventually
from tests.support.ids import new_party


def admin(*args: str) -> str:
    run = subprocess.run(
        [sys.executable, "-m", "consentry_admin", "keys", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def write_status(stack: Stack, token: str, party: str) -> tuple[int, str]:
    """The write API's answer to ``party`` reading its own decisions with ``token``."""
    response = httpx.get(
        f"{stack.write_url}/v1/parties/{party}/decisions",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    return response.status_code, response.headers.get("WWW-Authenticate", "")


def check_status(stack: Stack, token: str) -> int:
    return httpx.get(
        f"{stack.check_url}/v1/check",
        params={"isrc": "ZZROT0000001", "purpose": "ai.training"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).status_code


@pytest.fixture
def key_set(stack: Stack) -> Iterator[Path]:
    """The stack's key set, as it was before the test, put back after it."""
    before = stack.key_set.read_text()
    yield stack.key_set
    stack.key_set.write_text(before)


def test_a_new_key_works_at_once_the_old_keeps_working_and_a_retired_one_is_refused(
    stack: Stack, key_set: Path, tmp_path: Path
) -> None:
    old = stack.token  # the stack's own key
    private, public = generate_keys()
    (tmp_path / "public.pem").write_bytes(public)
    new = Issuer(private)
    stranger = Issuer(generate_keys()[0])

    def as_new(subject: str) -> str:
        audiences = [CHECK_AUDIENCE] if subject.startswith("service:") else [WRITE_AUDIENCE]
        return new.issue(subject, audiences)

    party = new_party()
    assert write_status(stack, as_new(party), party)[0] == 401, "not trusted yet"
    added = admin("add", str(tmp_path / "public.pem"), "--set", str(key_set))
    assert added.strip() == f"trusted {new.key_id}"
    own = Issuer(stack.signing_key.read_bytes()).key_id
    assert set(admin("show", "--set", str(key_set)).split()) == {own, new.key_id}

    # Each service reads the set on its own, within a second of the change.
    def signs_in() -> bool:
        link = new.login_link(party)
        return httpx.get(f"{stack.portal_url}/login", params={"link": link}).status_code == 303

    eventually(
        lambda: write_status(stack, as_new(party), party)[0] == 200, 5, "a new key's token works"
    )
    eventually(lambda: check_status(stack, as_new("service:c")) == 200, 5, "and at checks")
    # Slowly: sign-in attempts are rate limited per address (5 a second).
    eventually(signs_in, 5, "a login link of the new key works at the portal", poll_s=0.3)
    assert write_status(stack, old(party), party)[0] == 200, "the old key's tokens keep working"
    assert check_status(stack, old("service:rotated")) == 200

    status, challenge = write_status(stack, stranger.issue(party, [WRITE_AUDIENCE]), party)
    assert status == 401
    assert "not (or no more) trusted" in challenge, "a key nobody trusts is refused"

    admin("retire", new.key_id, "--set", str(key_set))
    eventually(
        lambda: write_status(stack, as_new(party), party)[0] == 401, 5, "a retired key is refused"
    )
    eventually(lambda: check_status(stack, as_new("service:c")) == 401, 5, "and at checks")
    assert write_status(stack, old(party), party)[0] == 200
    assert key_set_json(parse_keys(key_set.read_bytes())) == key_set.read_text()

"""Who may do what, on the real stack: every principal kind x every target kind.

The expectations are written out as a table (not derived from the rules under test).
Tokens here are good for both audiences, so what decides is the authorisation rule;
audiences and missing tokens have tests of their own.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import httpx
import pytest

from consentry_auth import CHECK_AUDIENCE, WRITE_AUDIENCE, Issuer, generate_keys
from consentry_stack.stack import Stack
from tests.support.http import register
from tests.support.ids import new_isrc, new_upc

BOTH = [WRITE_AUDIENCE, CHECK_AUDIENCE]


@dataclass(frozen=True)
class World:
    artist: str
    other_artist: str
    label: str
    publisher: str
    isrc: str


@pytest.fixture
def world(stack: Stack) -> World:
    tag = uuid.uuid4().hex[:10]
    found = World(f"artist:a{tag}", f"artist:o{tag}", f"label:l{tag}", f"publisher:p{tag}", "")
    isrc = new_isrc()
    register(stack, isrc, new_upc(), [found.artist, found.label, found.publisher])
    grant = {
        "party": found.artist,
        "delegate": found.label,
        "purpose": "ai.generation",
        "action": "grant",
    }
    response = httpx.post(
        f"{stack.write_url}/v1/delegations", json=grant, headers=stack.bearer(found.artist)
    )
    assert response.status_code == 202, response.text
    return World(found.artist, found.other_artist, found.label, found.publisher, isrc)


def _decide(party: str, purpose: str) -> tuple[str, str, dict[str, object]]:
    return (
        "POST",
        "/v1/decisions",
        {"party": party, "purpose": purpose, "choice": "deny", "scope": "party"},
    )


def _target(world: World, name: str) -> tuple[str, str, object]:
    return {
        "decide artist (delegated purpose)": _decide(world.artist, "ai.generation.voice"),
        "decide artist (other purpose)": _decide(world.artist, "ai.training"),
        "decide label": _decide(world.label, "ai"),
        "decide publisher": _decide(world.publisher, "ai"),
        "delegate artist's ai.dj": (
            "POST",
            "/v1/delegations",
            {"party": world.artist, "delegate": world.label, "purpose": "ai.dj", "action": "grant"},
        ),
        "register track": (
            "POST",
            "/v1/tracks",
            {"isrc": new_isrc(), "upc": new_upc(), "parties": [world.artist]},
        ),
        "read artist's history": ("GET", f"/v1/parties/{world.artist}/history", None),
        "read artist's decisions": ("GET", f"/v1/parties/{world.artist}/decisions", None),
        "check": ("GET", f"/v1/check?isrc={world.isrc}&purpose=ai.training", None),
    }[name]


TARGETS = [
    "decide artist (delegated purpose)",
    "decide artist (other purpose)",
    "decide label",
    "decide publisher",
    "delegate artist's ai.dj",
    "register track",
    "read artist's history",
    "read artist's decisions",
    "check",
]

# principal -> the answer for each target, in TARGETS order: a status, or "403 <reason>".
MATRIX: dict[str, list[str]] = {
    "artist (itself)": ["202", "202", "403 not_own_party", "403 not_own_party", "202",
                        "403 catalogue_only", "200", "200", "403 services_only"],
    "artist (another)": ["403 not_own_party", "403 not_own_party", "403 not_own_party",
                         "403 not_own_party", "403 delegation_is_own_act", "403 catalogue_only",
                         "403 not_readable", "403 not_readable", "403 services_only"],
    "label (delegate of ai.generation)": ["202", "403 not_delegated", "202", "403 not_own_party",
                                          "403 delegation_is_own_act", "403 catalogue_only",
                                          "200", "200", "403 services_only"],
    "publisher": ["403 not_own_party", "403 not_own_party", "403 not_own_party", "202",
                  "403 delegation_is_own_act", "403 catalogue_only", "403 not_readable",
                  "403 not_readable", "403 services_only"],
    "admin": ["202", "202", "202", "202", "403 delegation_is_own_act", "202", "200", "200", "200"],
    "service": ["403 not_a_party", "403 not_a_party", "403 not_a_party", "403 not_a_party",
                "403 delegation_is_own_act", "403 catalogue_only", "403 not_readable",
                "403 not_readable", "200"],
    "catalogue": ["403 not_a_party", "403 not_a_party", "403 not_a_party", "403 not_a_party",
                  "403 delegation_is_own_act", "202", "403 not_readable", "403 not_readable",
                  "403 services_only"],
}  # fmt: skip


def _subject(world: World, principal: str) -> str:
    return {
        "artist (itself)": world.artist,
        "artist (another)": world.other_artist,
        "label (delegate of ai.generation)": world.label,
        "publisher": world.publisher,
        "admin": "admin:matrix",
        "service": "service:matrix",
        "catalogue": "catalogue:matrix",
    }[principal]


def _call(stack: Stack, token: str | None, method: str, path: str, body: object) -> httpx.Response:
    base = stack.check_url if path.startswith("/v1/check") else stack.write_url
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return httpx.request(method, base + path, json=body, headers=headers, timeout=15)


def _outcome(response: httpx.Response) -> str:
    if response.status_code != 403:
        return str(response.status_code)
    return f"403 {response.json()['detail']['reason']}"


def _refusals(stack: Stack) -> float:
    text = httpx.get(f"{stack.write_url}/metrics/", timeout=5).text
    return sum(
        float(m[1])
        for m in re.finditer(r"^consentry_write_refusals_total\{[^}]*\} (\S+)$", text, re.M)
    )


def test_every_principal_kind_against_every_target_kind(stack: Stack, world: World) -> None:
    refused_before = _refusals(stack)
    wrong: list[str] = []
    refusals = 0
    for principal, expected in MATRIX.items():
        token = stack.token(_subject(world, principal), BOTH)
        for target, want in zip(TARGETS, expected, strict=True):
            got = _outcome(_call(stack, token, *_target(world, target)))
            refusals += got.startswith("403") and target != "check"
            if got != want:
                wrong.append(f"{principal} / {target}: wanted {want}, got {got}")
    assert not wrong, "\n".join(wrong)
    assert _refusals(stack) - refused_before == refusals, "every refusal is counted"


def test_history_says_who_decided_and_by_what_right(stack: Stack, world: World) -> None:
    for principal, purpose in (
        (world.artist, "ai.training"),
        (world.label, "ai.generation.voice"),
        ("admin:matrix", "ai.dj"),
    ):
        body = {"party": world.artist, "purpose": purpose, "choice": "deny", "scope": "party"}
        response = _call(stack, stack.token(principal), "POST", "/v1/decisions", body)
        assert response.status_code == 202, response.text
    history = _call(
        stack, stack.token(world.artist), "GET", f"/v1/parties/{world.artist}/history", None
    ).json()["decisions"]
    assert [(d["actor"], d["authority"], d["purpose"]) for d in history] == [
        (world.artist, "self", "ai.training"),
        (world.label, "delegate", "ai.generation.voice"),
        ("admin:matrix", "admin", "ai.dj"),
    ]


def _revoke_generation(stack: Stack, world: World) -> None:
    """The artist revokes the label's delegation of ai.generation (the world's grant)."""
    revoke = {
        "party": world.artist,
        "delegate": world.label,
        "purpose": "ai.generation",
        "action": "revoke",
    }
    response = _call(stack, stack.token(world.artist), "POST", "/v1/delegations", revoke)
    assert response.status_code == 202, response.text


def test_a_revoked_delegation_stops_the_delegate_at_once(stack: Stack, world: World) -> None:
    body = {"party": world.artist, "purpose": "ai.generation", "choice": "deny", "scope": "party"}
    label = stack.token(world.label)
    assert _call(stack, label, "POST", "/v1/decisions", body).status_code == 202
    _revoke_generation(stack, world)
    refused = _call(stack, label, "POST", "/v1/decisions", body)
    assert _outcome(refused) == "403 not_own_party", refused.text
    grants = _call(
        stack, stack.token(world.artist), "GET", f"/v1/parties/{world.artist}/delegations", None
    ).json()
    assert grants["delegations"] == []


def test_a_delegate_lists_what_it_decided_for_others_revoked_or_not(
    stack: Stack, world: World
) -> None:
    label = stack.token(world.label)
    body = {"party": world.artist, "purpose": "ai.generation", "choice": "deny", "scope": "party"}
    assert _call(stack, label, "POST", "/v1/decisions", body).status_code == 202
    own = {"party": world.label, "purpose": "ai.dj", "choice": "deny", "scope": "party"}
    assert _call(stack, label, "POST", "/v1/decisions", own).status_code == 202
    _revoke_generation(stack, world)
    artist = stack.token(world.artist)

    held = _call(stack, label, "GET", f"/v1/parties/{world.label}/delegators", None).json()
    assert [(d["party"], d["purpose"], d["in_force"]) for d in held["delegators"]] == [
        (world.artist, "ai.generation", False)
    ]
    made = _call(
        stack, label, "GET", f"/v1/parties/{world.label}/decisions-for-others", None
    ).json()
    assert [(d["party"], d["actor"], d["authority"], d["purpose"]) for d in made["decisions"]] == [
        (world.artist, world.label, "delegate", "ai.generation")
    ], "the label's own decision is not among them; the revoked delegation's still is"
    for other in (artist, stack.token(world.publisher)):
        for what in ("delegators", "decisions-for-others"):
            refused = _call(stack, other, "GET", f"/v1/parties/{world.label}/{what}", None)
            assert _outcome(refused) == "403 not_readable", refused.text


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, "missing"),
        ("not-a-jwt", "malformed"),
        ("service", "wrong_audience"),
        ("expired", "expired"),
        ("foreign", "unknown_key"),
    ],
)
def test_a_write_without_a_valid_token_is_401_and_changes_nothing(
    stack: Stack, world: World, token: str | None, reason: str
) -> None:
    minted = {
        "service": stack.token("service:matrix"),  # good for checks only
        "expired": stack.token(world.artist, ttl_s=-120),
        "foreign": Issuer(generate_keys()[0]).issue(world.artist, [WRITE_AUDIENCE]),
    }.get(token or "", token)
    body = {"party": world.artist, "purpose": "ai.training", "choice": "deny", "scope": "party"}
    response = _call(stack, minted, "POST", "/v1/decisions", body)
    assert response.status_code == 401, response.text
    assert response.json()["detail"]["reason"] == reason
    assert response.headers["www-authenticate"].startswith("Bearer")
    history = _call(
        stack, stack.token(world.artist), "GET", f"/v1/parties/{world.artist}/history", None
    ).json()
    assert history["decisions"] == []

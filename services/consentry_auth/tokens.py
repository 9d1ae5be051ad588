"""Issuing and verifying Consentry's bearer tokens."""

from __future__ import annotations

import functools
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from consentry_auth.keyset import KeySet, key_id

WRITE_AUDIENCE = "consentry-write"
CHECK_AUDIENCE = "consentry-check"
PORTAL_AUDIENCE = "consentry-portal"
ISSUER = "consentry"
ALGORITHM = "EdDSA"
_SUBJECT = re.compile(r"^[a-z][a-z0-9_]{0,31}:[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class PrincipalKind(StrEnum):
    ADMIN = "admin"
    SERVICE = "service"
    CATALOGUE = "catalogue"
    SYSTEM = "system"
    PARTY = "party"


_RESERVED = {
    PrincipalKind.ADMIN,
    PrincipalKind.SERVICE,
    PrincipalKind.CATALOGUE,
    PrincipalKind.SYSTEM,
}


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    """``<kind>:<id>`` as signed in the token; for a party, the party itself."""

    @property
    def kind(self) -> PrincipalKind:
        prefix = self.subject.split(":", 1)[0]
        return PrincipalKind(prefix) if prefix in _RESERVED else PrincipalKind.PARTY


def default_audiences(subject: str) -> list[str]:
    """Service tokens check; admins do both; parties, the catalogue and downstream
    systems (their receipts) write."""
    kind = Principal(subject).kind
    if kind is PrincipalKind.SERVICE:
        return [CHECK_AUDIENCE]
    if kind is PrincipalKind.ADMIN:
        return [WRITE_AUDIENCE, CHECK_AUDIENCE]
    return [WRITE_AUDIENCE]


AUTH_FAILURE_REASONS = (
    "missing",
    "malformed",
    "bad_signature",
    "unknown_key",
    "expired",
    "wrong_audience",
    "bad_subject",
)
"""Every ``AuthError.reason``: the bounded label values of the 401 counters."""


class AuthError(Exception):
    """The request carries no usable token; ``reason`` is a short, bounded label."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def generate_keys() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as (private PEM, public PEM)."""
    private = Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem


class Issuer:
    """Signs tokens with one private key; each token names its key (``kid``)."""

    def __init__(self, private_pem: bytes) -> None:
        key = serialization.load_pem_private_key(private_pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("not an Ed25519 private key")
        self._key = key
        self.key_id = key_id(key.public_key())

    def issue(
        self,
        subject: str,
        audiences: Sequence[str],
        ttl_s: float = 3600.0,
        extra: dict[str, object] | None = None,
    ) -> str:
        if not _SUBJECT.fullmatch(subject):
            raise AuthError(
                "bad_subject",
                f"subject {subject!r} is not '<kind>:<id>' (e.g. artist:nina-vale): "
                "a lower-case kind, a colon, an id of letters, digits, '.', '_' or '-'",
            )
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": list(audiences),
            "iat": now,
            "exp": now + int(ttl_s),
            **(extra or {}),
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.key_id})

    def login_link(self, party: str, session_s: int = 3600, link_s: int = 600) -> str:
        """A party's one-time sign-in to the portal: a token for the portal and the write
        API, valid ``session_s``, with an id (``jti``) the portal spends on first use and
        ``link_exp``, past which the portal refuses it as a link (``link_s``)."""
        if Principal(party).kind is not PrincipalKind.PARTY:
            raise AuthError("bad_subject", f"{party} is not a party: only parties sign in")
        return self.issue(
            party,
            [PORTAL_AUDIENCE, WRITE_AUDIENCE],
            session_s,
            {"jti": secrets.token_urlsafe(16), "link_exp": int(time.time()) + link_s},
        )


class Verifier:
    """Checks signature, issuer, audience and expiry; returns the token's principal.

    A signature check costs ~130 µs, more than the rest of a cached check, so the claims
    of tokens that verified are remembered (by the whole token string, signature
    included; at most ``cache_size``, ~0.5 KB each); expiry is checked again on every use.
    The default holds the tokens of 65,536 callers active at once: at 4,096, 5,000
    parties writing in turn (the write benchmark) missed on every request, and the
    signature checks took 12% of the write API's CPU."""

    def __init__(
        self,
        keys: KeySet | bytes,
        audience: str,
        leeway_s: float = 30.0,
        cache_size: int = 65_536,
    ) -> None:
        self._keys = keys if isinstance(keys, KeySet) else KeySet(data=keys)
        self._version = self._keys.version
        self._trusted: Mapping[str, Ed25519PublicKey] = self._keys.keys()
        self._audience = audience
        self._leeway_s = leeway_s
        self._verified = functools.lru_cache(maxsize=cache_size)(self._signed_claims)

    def verify(self, token: str) -> Principal:
        keys = self._keys.keys()
        if self._keys.version != self._version:  # a key came or went: verify afresh
            self._version = self._keys.version
            self._verified.cache_clear()
        self._trusted = keys
        subject, expires = self._verified(token)
        if time.time() > expires + self._leeway_s:
            raise AuthError("expired", "the token has expired")
        return Principal(subject)

    def _signed_claims(self, token: str) -> tuple[str, float]:
        keys = self._trusted
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise AuthError("malformed", f"the token is not valid: {exc}") from None
        if kid is not None:
            if kid not in keys:
                raise AuthError("unknown_key", f"the token's key {kid} is not (or no more) trusted")
            candidates = [keys[kid]]
        else:  # a token from before key ids: any trusted key may have signed it
            candidates = list(keys.values())
        for n, key in enumerate(candidates):
            try:
                return self._claims(token, key)
            except AuthError as error:
                if error.reason != "bad_signature" or n == len(candidates) - 1:
                    raise
        raise AuthError("unknown_key", "no key is trusted")

    def _claims(self, token: str, key: Ed25519PublicKey) -> tuple[str, float]:
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=ISSUER,
                leeway=self._leeway_s,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("expired", "the token has expired") from None
        except jwt.InvalidAudienceError:
            raise AuthError(
                "wrong_audience", f"the token is not for this service ({self._audience})"
            ) from None
        except jwt.InvalidSignatureError:
            raise AuthError("bad_signature", "the token's signature does not verify") from None
        except jwt.PyJWTError as exc:
            raise AuthError("malformed", f"the token is not valid: {exc}") from None
        subject = claims["sub"]
        if not isinstance(subject, str) or not _SUBJECT.fullmatch(subject):
            raise AuthError("bad_subject", "the token's subject is not '<kind>:<id>'")
        return subject, float(claims["exp"])


@dataclass(frozen=True, slots=True)
class LoginLink:
    party: Principal
    link_id: str
    link_expires: float
    expires: float


def verify_login_link(verifier: Verifier, token: str) -> LoginLink:
    """A login link's claims, once its signature, audience (the portal) and expiry hold;
    ``AuthError`` otherwise, also when it is past ``link_exp`` or not a party's."""
    principal = verifier.verify(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    link_id, link_exp = claims.get("jti"), claims.get("link_exp")
    if not isinstance(link_id, str) or not isinstance(link_exp, int):
        raise AuthError("malformed", "not a login link")
    if principal.kind is not PrincipalKind.PARTY:
        raise AuthError("bad_subject", "only parties sign in to the portal")
    if time.time() > link_exp:
        raise AuthError("expired", "the login link has expired: ask for a new one")
    return LoginLink(principal, link_id, float(link_exp), float(claims["exp"]))

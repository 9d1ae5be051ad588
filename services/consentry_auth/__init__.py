"""Who is calling: signed bearer tokens (JWT, EdDSA) and the principals they name.

Tokens are signed with an Ed25519 private key held only by the issuer (``consentry-admin
token``, or the local stack's dev key); the services hold the public key and can verify
but never mint. A token names its principal in ``sub`` as ``<kind>:<id>``:

* ``admin:<id>`` -- platform operators: read everything; a decision they record for a
  party is marked ``authority: admin`` in the log for everyone to see.
* ``service:<id>`` -- an AI feature: checks only, read-only.
* ``catalogue:<id>`` -- the catalogue feed: registers tracks and their rights holders.
* ``system:<name>`` -- a downstream AI system: sends receipts for the changes it acted on.
* any other kind (``artist``, ``label``, ``publisher``, ...) -- a party, acting for itself.

``aud`` says where a token may be used: ``consentry-write`` (the write API) and/or
``consentry-check`` (the HTTP check service), ``consentry-portal`` (a party's login
link to the portal, ``Issuer.login_link``).
"""

from consentry_auth.keyset import KeySet, key_id, key_set_json, parse_keys
from consentry_auth.tokens import (
    AUTH_FAILURE_REASONS,
    CHECK_AUDIENCE,
    PORTAL_AUDIENCE,
    WRITE_AUDIENCE,
    AuthError,
    Issuer,
    LoginLink,
    Principal,
    PrincipalKind,
    Verifier,
    default_audiences,
    generate_keys,
    verify_login_link,
)

__all__ = [
    "AUTH_FAILURE_REASONS",
    "CHECK_AUDIENCE",
    "PORTAL_AUDIENCE",
    "WRITE_AUDIENCE",
    "AuthError",
    "Issuer",
    "KeySet",
    "LoginLink",
    "Principal",
    "PrincipalKind",
    "Verifier",
    "default_audiences",
    "generate_keys",
    "key_id",
    "key_set_json",
    "parse_keys",
    "verify_login_link",
]

"""Who may do what on the write API: pure rules, one function per action.

Each returns the authority the actor acts with (recorded in the event) or raises
``Refused`` with a reason code (bounded, for the refusal metric) and a sentence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from consentry_auth import Principal, PrincipalKind
from consentry_domain import Track
from consentry_events import Authority
from consentry_http import FieldProblem, Refused


@dataclass(frozen=True, slots=True)
class Grant:
    """``delegate`` may decide ``purpose`` (and every purpose under it) for the grantor."""

    delegate: str
    purpose: str

    def covers(self, purpose: str) -> bool:
        return purpose == self.purpose or purpose.startswith(self.purpose + ".")


def needs_grants(principal: Principal, party: str) -> bool:
    """Whether ``may_decide`` depends on ``party``'s delegations: only for another party
    (an admin may decide for anyone, a party for itself, nobody else at all)."""
    return principal.kind is PrincipalKind.PARTY and principal.subject != party


def may_decide(
    principal: Principal, party: str, purpose: str, grants: Iterable[Grant]
) -> Authority:
    """Record a consent decision for ``party`` on ``purpose``."""
    kind = principal.kind
    if kind is PrincipalKind.ADMIN:
        return Authority.ADMIN
    if kind is not PrincipalKind.PARTY:
        raise Refused(
            "not_a_party", f"{principal.subject} may not record consent decisions (only parties)"
        )
    if principal.subject == party:
        return Authority.SELF
    if any(g.delegate == principal.subject and g.covers(purpose) for g in grants):
        return Authority.DELEGATE
    mine = [g.purpose for g in grants if g.delegate == principal.subject]
    if mine:
        raise Refused(
            "not_delegated",
            f"{party} delegated only {', '.join(sorted(mine))} to {principal.subject}, "
            f"not {purpose}",
        )
    raise Refused("not_own_party", f"{principal.subject} may not decide for {party}")


def holds_every_track(party: str, isrcs: Sequence[str], held: Mapping[str, Track]) -> None:
    """A decision on many tracks: each track the catalogue knows must list ``party``
    among its rights holders; all are named when some do not (nothing is written). A
    track not yet in the catalogue is allowed, as for one track: a label may opt a
    recording out before it is delivered, and the decision binds once it is."""
    strangers = [
        FieldProblem(
            loc=["body", "works", index],
            msg=f"{party} is not a rights holder of {isrc} (holders: "
            f"{', '.join(held[isrc].parties)})",
            type="not_rights_holder",
        )
        for index, isrc in enumerate(isrcs)
        if isrc in held and party not in held[isrc].parties
    ]
    if strangers:
        raise Refused(
            "not_rights_holder",
            f"{party} holds no rights in {len(strangers)} of the {len(isrcs)} tracks "
            "(listed in errors); nothing was written -- leave them out and send again",
            errors=strangers,
        )


def may_delegate(principal: Principal, party: str) -> Authority:
    """Grant or revoke a delegation of ``party``: the party's own act, nobody else's."""
    if principal.subject == party and principal.kind is PrincipalKind.PARTY:
        return Authority.SELF
    raise Refused(
        "delegation_is_own_act", f"only {party} itself may grant or revoke its delegations"
    )


def may_state_disclosure(principal: Principal, party: str) -> Authority:
    """State the AI disclosure of ``party``'s works: the musicians' (and rights holders')
    own statement -- the party itself, or an admin for it; never a delegate."""
    if principal.kind is PrincipalKind.ADMIN:
        return Authority.ADMIN
    if principal.subject == party and principal.kind is PrincipalKind.PARTY:
        return Authority.SELF
    raise Refused(
        "disclosure_is_own_act",
        f"only {party} itself (or an admin) may state the AI disclosure of its works",
    )


def may_register_tracks(principal: Principal) -> Authority:
    """Add, change or retire a track and its rights holders: the catalogue feed's job."""
    if principal.kind in (PrincipalKind.CATALOGUE, PrincipalKind.ADMIN):
        return Authority.CATALOGUE if principal.kind is PrincipalKind.CATALOGUE else Authority.ADMIN
    raise Refused(
        "catalogue_only",
        f"{principal.subject} may not change the catalogue (catalogue or admin tokens only)",
    )


def may_read(principal: Principal, party: str, grants: Iterable[Grant]) -> None:
    """See ``party``'s decisions, history, chain and delegations."""
    if principal.kind is PrincipalKind.ADMIN or principal.subject == party:
        return
    if principal.kind is PrincipalKind.PARTY and any(
        g.delegate == principal.subject for g in grants
    ):
        return
    raise Refused("not_readable", f"{principal.subject} may not read {party}'s consent records")


def may_register_systems(principal: Principal) -> Authority:
    """Register a downstream AI system: an operator's act."""
    if principal.kind is PrincipalKind.ADMIN:
        return Authority.ADMIN
    raise Refused(
        "admin_only", f"{principal.subject} may not register downstream systems (admins only)"
    )


def receipts_of(principal: Principal) -> str:
    """Send receipts: a downstream system, for itself only -- the name its token carries."""
    if principal.kind is PrincipalKind.SYSTEM:
        return principal.subject.split(":", 1)[1]
    raise Refused(
        "systems_only",
        f"{principal.subject} may not send receipts (system:<name> tokens only)",
    )

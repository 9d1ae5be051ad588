"""What the write API's routes depend on, as typed ``Annotated`` dependencies (all
``async``: FastAPI runs a plain function dependency in a thread pool).

The composition root (``app.create_app``) builds one ``WriteServices`` at start-up;
routes name what they need (``Parties``, ``Taxonomy`` ...), never ``request.app.state``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from pydantic import BaseModel

from consentry_auth import Principal
from consentry_domain import Taxonomy as TaxonomyRules
from consentry_http import invalid_field
from consentry_kafka import KafkaConnection
from consentry_state import (
    CatalogueIndex,
    Delegations,
    IdempotencyRecords,
    LogProgress,
    ReceiptBook,
    StoredState,
)
from consentry_writeapi.authorise import Grant
from consentry_writeapi.idempotency import Attempt, fingerprint
from consentry_writeapi.importer import CatalogueImport
from consentry_writeapi.publisher import KafkaPublisher
from consentry_writeapi.recorder import CatalogueLog, PartyLog


@dataclass(frozen=True, slots=True)
class WriteServices:
    taxonomy: TaxonomyRules
    kafka: KafkaConnection
    publisher: KafkaPublisher
    parties: PartyLog
    catalogue: CatalogueLog
    idempotency: IdempotencyRecords
    delegations: Delegations
    stored: StoredState
    progress: LogProgress
    importer: CatalogueImport
    receipts: ReceiptBook
    index: CatalogueIndex


async def _services(request: Request) -> WriteServices:
    services: WriteServices = request.app.state.services
    return services


Services = Annotated[WriteServices, Depends(_services)]


async def _taxonomy(services: Services) -> TaxonomyRules:
    return services.taxonomy


async def _parties(services: Services) -> PartyLog:
    return services.parties


async def _catalogue(services: Services) -> CatalogueLog:
    return services.catalogue


async def _importer(services: Services) -> CatalogueImport:
    return services.importer


async def _delegations(services: Services) -> Delegations:
    return services.delegations


async def _idempotency(services: Services) -> IdempotencyRecords:
    return services.idempotency


Taxonomy = Annotated[TaxonomyRules, Depends(_taxonomy)]
Parties = Annotated[PartyLog, Depends(_parties)]
Catalogue = Annotated[CatalogueLog, Depends(_catalogue)]
Importer = Annotated[CatalogueImport, Depends(_importer)]
DelegationsOf = Annotated[Delegations, Depends(_delegations)]
KeyRecords = Annotated[IdempotencyRecords, Depends(_idempotency)]

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Retry with the same key: the first answer comes back, no second event.",
    ),
]


def attempt(
    records: IdempotencyRecords,
    principal: Principal,
    key: str | None,
    route: str,
    body: BaseModel,
) -> Attempt | None:
    """The request's handle on its Idempotency-Key, if it sent one."""
    if key is None:
        return None
    return Attempt(
        records,
        records.key_of(principal.subject, key),
        fingerprint(route, body.model_dump(mode="json")),
    )


def known_purpose(taxonomy: TaxonomyRules, purpose: str) -> None:
    """422 naming the known purposes, for one outside the taxonomy."""
    if not taxonomy.knows(purpose):
        known = ", ".join(sorted(taxonomy.defaults))
        raise invalid_field(
            ["body", "purpose"],
            f"unknown purpose {purpose!r}; known purposes: {known}",
            "unknown_purpose",
        )


async def grants(delegations: Delegations, party: str) -> list[Grant]:
    return [Grant(d.delegate, d.purpose) for d in await delegations.granted(party)]

"""What the write API's routes depend on, as typed ``Annotated`` dependencies (all
``async``: FastAPI runs a plain function dependency in a thread pool).

The composition root (``app.create_app``) builds one ``WriteServices`` at start-up;
routes name each thing they need (``Parties``, ``Taxonomy`` ...), never the whole
container nor ``request.app.state``. An operation with a fast path takes the same
things as arguments (``consentry_writeapi.decide``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from pydantic import BaseModel
from redis.asyncio import Redis

from consentry_auth import Principal
from consentry_auth.keyset import KeySet
from consentry_domain import Taxonomy as TaxonomyRules
from consentry_ern.catalogue import PartyRule
from consentry_http import Authenticator, invalid_field
from consentry_http.inputs import (
    IDEMPOTENCY_KEY,
    KEY_DESCRIPTION,
    KEY_DOC,
    Call,
    idempotency_key,
)
from consentry_http.parts import part
from consentry_kafka import KafkaConnection, LogEnds
from consentry_kafka.signatures import EventSigner
from consentry_state import (
    CatalogueIndex,
    Delegations,
    IdempotencyRecords,
    LogProgress,
    ReceiptBook,
    StatementViews,
    StoredState,
    UsageViews,
)
from consentry_writeapi.authorise import Grant
from consentry_writeapi.downstream_log import ReceiptLog, SystemRegistry
from consentry_writeapi.idempotency import Attempt, fingerprint
from consentry_writeapi.importer import CatalogueImport
from consentry_writeapi.publisher import Publisher, TopicLog
from consentry_writeapi.recorder import CatalogueLog, PartyLog
from consentry_writeapi.settings import WriteSettings

KEY_CONSTRAINTS = ("minLength", "maxLength", "pattern")


def _event_keys(settings: WriteSettings) -> KeySet | None:
    """The readers' event key set as the write API sees it: a new signing key is used
    only once it is named there."""
    return None if settings.event_keys_file is None else KeySet(settings.event_keys_file)


@dataclass(frozen=True, slots=True)
class WriteServices:
    taxonomy: TaxonomyRules
    kafka: KafkaConnection
    parties: PartyLog
    catalogue: CatalogueLog
    systems: SystemRegistry
    receipts: ReceiptLog
    idempotency: IdempotencyRecords
    delegations: Delegations
    stored: StoredState
    progress: LogProgress
    importer: CatalogueImport
    book: ReceiptBook
    index: CatalogueIndex
    usage: UsageViews
    statements: StatementViews
    auth: Authenticator
    party_rule: PartyRule

    @classmethod
    def connected(
        cls,
        settings: WriteSettings,
        taxonomy: TaxonomyRules,
        publisher: Publisher,
        auth: Authenticator,
        redis: tuple[Redis, Redis],
        log_ends: LogEnds,
    ) -> WriteServices:
        """Everything the routes use, on the state's primary and the enforcer's store
        (``redis``): one recorder per topic, the state's readers and writers."""
        primary, store = redis
        signer = EventSigner(settings.event_signing_key_file, _event_keys(settings))
        records = IdempotencyRecords(primary, settings.idempotency_ttl_s)
        parties = PartyLog(
            primary,
            TopicLog(publisher, "consent", signer),
            settings.kafka(),
            records,
            produce_timeout_s=settings.produce_timeout_s,
            settle_margin_s=settings.settle_margin_s,
        )
        catalogue = CatalogueLog(TopicLog(publisher, "catalogue", signer), parties.lock_ttl_s)
        stored, progress = StoredState(primary), LogProgress(primary)
        return cls(
            taxonomy=taxonomy,
            kafka=settings.kafka(),
            parties=parties,
            catalogue=catalogue,
            systems=SystemRegistry(TopicLog(publisher, "downstream_systems", signer)),
            receipts=ReceiptLog(TopicLog(publisher, "receipts", signer)),
            idempotency=records,
            delegations=Delegations(primary),
            stored=stored,
            progress=progress,
            importer=CatalogueImport(
                catalogue, log_ends, progress, stored, settings.import_compare_wait_s
            ),
            book=ReceiptBook(store),
            index=CatalogueIndex(store),
            usage=UsageViews(store),
            statements=StatementViews(store),
            auth=auth,
            party_rule=PartyRule.load(settings.ern_parties_file),
        )


Taxonomy = Annotated[TaxonomyRules, part("taxonomy")]
Kafka = Annotated[KafkaConnection, part("kafka")]
Parties = Annotated[PartyLog, part("parties")]
Catalogue = Annotated[CatalogueLog, part("catalogue")]
Systems = Annotated[SystemRegistry, part("systems")]
Receipts = Annotated[ReceiptLog, part("receipts")]
KeyRecords = Annotated[IdempotencyRecords, part("idempotency")]
DelegationsOf = Annotated[Delegations, part("delegations")]
Stored = Annotated[StoredState, part("stored")]
Progress = Annotated[LogProgress, part("progress")]
Importer = Annotated[CatalogueImport, part("importer")]
Book = Annotated[ReceiptBook, part("book")]
Index = Annotated[CatalogueIndex, part("index")]
Usage = Annotated[UsageViews, part("usage")]
Statements = Annotated[StatementViews, part("statements")]
Auth = Annotated[Authenticator, part("auth")]
PartyRules = Annotated[PartyRule, part("party_rule")]


async def _idempotency_key(
    request: Request,
    _: Annotated[
        str | None,
        Header(
            alias=IDEMPOTENCY_KEY,
            description=KEY_DESCRIPTION,
            json_schema_extra={k: KEY_DOC["schema"][k] for k in KEY_CONSTRAINTS},
        ),
    ] = None,
) -> str | None:
    """Documented as a header; read (and refused) by ``consentry_http.inputs``."""
    return idempotency_key(Call.of(request))


IdempotencyKey = Annotated[str | None, Depends(_idempotency_key)]


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

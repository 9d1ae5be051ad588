"""deploy/kafka/README.md, run for real: SASL/SCRAM principals and exactly its ACLs.

A broker of its own that authorises every request (nothing without an ACL) gets the
``acl ...`` lines of the deployment guide, read from the guide itself, through Kafka's
own AclCommand. The write API and the materialiser then run as their principals over
SASL_PLAINTEXT, and ``consentry-admin verify-chain`` as the auditor: an opt-out goes
all the way through, so the guide grants enough. And each principal is refused what the
guide's "never" column says, so it grants no more.
"""

from __future__ import annotations

import asyncio
import gc
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError
from aiokafka.helpers import create_ssl_context

from consentry_enforcer.settings import GROUP as ENFORCER
from consentry_events import (
    CATALOGUE,
    CONSENT_CHANGES,
    DEAD_LETTER,
    ENFORCEMENT,
    ENFORCEMENT_STATE,
)
from consentry_materialiser.settings import MaterialiserSettings
from consentry_stack.kafka import KafkaBroker
from consentry_stack.kafka_guide import documented_acls
from consentry_stack.stack import Stack
from consentry_stack.tls import write_server_tls
from tests.support.http import await_answer, decide, register
from tests.support.ids import new_isrc, new_party, new_upc
from tests.support.log import accepted_at, enforcement_for, wait_consumed

PRINCIPALS = (
    "consentry-writeapi",
    "consentry-materialiser",
    "consentry-enforcer",
    "consentry-receipts",
    "consentry-meter",
    "consentry-usage",
    "consentry-autoscaler",
    "consentry-auditor",
)
STRANGER = "consentry-stranger"
"""A valid user with no ACL: what the check side would be, given a principal by mistake."""
MATERIALISER = MaterialiserSettings.model_fields["group_id"].default
USERS = {name: secrets.token_urlsafe(18) for name in (*PRINCIPALS, STRANGER)}


def credentials(prefix: str, user: str, stack: Stack) -> dict[str, str]:
    assert stack.kafka_tls is not None
    return {
        f"{prefix}KAFKA_BOOTSTRAP": sasl_bootstrap(stack),
        f"{prefix}KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        f"{prefix}KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        f"{prefix}KAFKA_USERNAME": user,
        f"{prefix}KAFKA_PASSWORD": USERS[user],
        f"{prefix}KAFKA_CA_FILE": str(stack.kafka_tls.ca_file),
    }


def producer_as(stack: Stack, user: str, password: str, trust: Path | None) -> AIOKafkaProducer:
    """A producer over SASL_SSL trusting ``trust`` (None: the system's CAs only)."""
    return AIOKafkaProducer(
        bootstrap_servers=sasl_bootstrap(stack),
        security_protocol="SASL_SSL",
        ssl_context=create_ssl_context(cafile=None if trust is None else str(trust)),
        sasl_mechanism="SCRAM-SHA-512",
        sasl_plain_username=user,
        sasl_plain_password=password,
        request_timeout_ms=10_000,
    )


def sasl_bootstrap(stack: Stack) -> str:
    assert isinstance(stack.kafka, KafkaBroker)
    return stack.kafka.sasl_bootstrap


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("secured")
    stack = Stack(root, kafka_scram_users=USERS, kafka_tls=write_server_tls(root / "tls"))
    try:
        stack.start_infra()
        acls = documented_acls()
        granted = {args[args.index("--allow-principal") + 1] for args in acls}
        assert granted == {f"User:{p}" for p in PRINCIPALS}, f"the guide's acl lines: {acls}"
        assert isinstance(stack.kafka, KafkaBroker)
        for args in acls:
            stack.kafka.acl(*args)
        stack.env_overrides.update(
            credentials("CONSENTRY_WRITE_", "consentry-writeapi", stack)
            | credentials("CONSENTRY_MATERIALISER_", "consentry-materialiser", stack)
            | credentials("CONSENTRY_ENFORCER_", "consentry-enforcer", stack)
        )
        stack.start_services()
        yield stack
    finally:
        stack.stop()


def test_the_services_run_as_their_principals_with_only_the_documented_acls(
    secured: Stack,
) -> None:
    artist, isrc = new_party(), new_isrc()
    registered = accepted_at(register(secured, isrc, new_upc(), [artist]))
    await_answer(secured, isrc, "ai.training", "allow")
    asyncio.run(wait_consumed(secured.kafka.bootstrap, ENFORCER, registered))
    decide(secured, artist, "ai.training", "deny", "party")
    await_answer(secured, isrc, "ai.training", "deny")
    told = asyncio.run(
        enforcement_for(secured.kafka.bootstrap, {isrc}, lambda e: e.purpose == "ai.training", 1)
    )
    assert (told[0].answer, told[0].previous) == ("deny", "allow")  # the enforcer's principal

    history = httpx.get(
        f"{secured.write_url}/v1/parties/{artist}/history",
        headers=secured.bearer(artist),
        timeout=10,
    )
    assert history.status_code == 200, history.text
    assert [d["choice"] for d in history.json()["decisions"]] == ["deny"]

    audit = subprocess.run(
        [sys.executable, "-m", "consentry_admin", "verify-chain", artist],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("CONSENTRY_")},
            **credentials("CONSENTRY_AUDIT_", "consentry-auditor", secured),
            "CONSENTRY_AUDIT_EVENT_KEYS_FILE": str(secured.event_key_set),
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr


@pytest.mark.parametrize(
    ("user", "topic"),
    [
        ("consentry-materialiser", CONSENT_CHANGES.name),
        ("consentry-materialiser", CATALOGUE.name),
        ("consentry-materialiser", ENFORCEMENT.name),
        ("consentry-materialiser", ENFORCEMENT_STATE.name),
        ("consentry-enforcer", CONSENT_CHANGES.name),
        ("consentry-enforcer", CATALOGUE.name),
        ("consentry-auditor", CONSENT_CHANGES.name),
        ("consentry-autoscaler", CONSENT_CHANGES.name),
        ("consentry-writeapi", ENFORCEMENT.name),
        ("consentry-writeapi", ENFORCEMENT_STATE.name),
        ("consentry-writeapi", DEAD_LETTER.name),
        (STRANGER, CONSENT_CHANGES.name),
        (STRANGER, ENFORCEMENT.name),
    ],
)
def test_a_principal_cannot_write_where_the_guide_says_never(
    secured: Stack, user: str, topic: str
) -> None:
    assert secured.kafka_tls is not None
    ca_file = secured.kafka_tls.ca_file

    async def attempt() -> None:
        producer = producer_as(secured, user, USERS[user], ca_file)
        await producer.start()
        try:
            await producer.send_and_wait(topic, b"{}", key=b"forged")
        finally:
            await producer.stop()

    with pytest.raises(TopicAuthorizationFailedError):
        asyncio.run(attempt())


def test_the_autoscaler_reads_the_workers_lag_and_no_record(secured: Stack) -> None:
    """What KEDA's Kafka scaler does with the guide's ``consentry-autoscaler`` grants:
    read a group's committed offsets and the log ends; reading a record is refused."""
    assert secured.kafka_tls is not None
    artist, isrc = new_party(), new_isrc()
    register(secured, isrc, new_upc(), [artist])
    await_answer(secured, isrc, "ai.training", "allow")
    login = {
        "bootstrap_servers": sasl_bootstrap(secured),
        "security_protocol": "SASL_SSL",
        "ssl_context": create_ssl_context(cafile=str(secured.kafka_tls.ca_file)),
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "consentry-autoscaler",
        "sasl_plain_password": USERS["consentry-autoscaler"],
    }
    partitions = [TopicPartition(CATALOGUE.name, p) for p in range(CATALOGUE.partitions)]

    async def committed() -> dict[TopicPartition, int]:
        admin = AIOKafkaAdminClient(**login)
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(MATERIALISER)
        finally:
            await admin.close()
        return {tp: meta.offset for tp, meta in offsets.items() if tp.topic == CATALOGUE.name}

    async def lag_then_read() -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
        for _ in range(100):  # the materialiser commits every few seconds
            offsets = await committed()
            if sum(offsets.values()) > 0:
                break
            await asyncio.sleep(0.2)
        consumer = AIOKafkaConsumer(**login, enable_auto_commit=False)
        await consumer.start()
        try:
            ends = await consumer.end_offsets(partitions)
            consumer.assign(partitions)
            await consumer.seek_to_beginning()
            with pytest.raises(TopicAuthorizationFailedError):
                await consumer.getmany(timeout_ms=10_000)
        finally:
            await consumer.stop()
        return offsets, ends

    offsets, ends = asyncio.run(lag_then_read())
    assert sum(offsets.values()) > 0, "the group's committed offsets were read"
    assert all(offsets.get(tp, 0) <= end for tp, end in ends.items())
    assert sum(ends.values()) >= sum(offsets.values())


# A refused TLS handshake can leave asyncio's plain socket transport behind, unclosed
# (seen once in ~15 runs, reported at interpreter exit): it is collected inside the test
# below and its ResourceWarning ignored there, and only there.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("fault", ["wrong password", "untrusted broker"])
def test_a_wrong_password_or_an_unverified_broker_is_refused(secured: Stack, fault: str) -> None:
    """The write API's own user, but a wrong password; or the right one, but a client
    that does not trust the broker's certificate (it would talk to an impostor too)."""
    assert secured.kafka_tls is not None
    user = "consentry-writeapi"
    password = "not-" + USERS[user] if fault == "wrong password" else USERS[user]
    trust = secured.kafka_tls.ca_file if fault == "wrong password" else None

    async def attempt() -> None:
        producer = producer_as(secured, user, password, trust)
        try:
            await producer.start()
            await producer.send_and_wait(CONSENT_CHANGES.name, b"{}", key=b"forged")
        finally:
            await producer.stop()

    with pytest.raises(KafkaError):
        asyncio.run(attempt())
    gc.collect()

"""How a service connects to Kafka, credentials included: one settings mixin, one value.

Locally the broker speaks PLAINTEXT on loopback. On a shared cluster each service gets
a principal of its own (deploy/kafka/README.md): set ``*_KAFKA_SECURITY_PROTOCOL`` to
``SASL_SSL``, the mechanism, username and password (and a CA file if the brokers' is not
in the system store) in the service's settings -- never in code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aiokafka.helpers import create_ssl_context
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

from consentry_auth.keyset import KeySet
from consentry_kafka.signatures import CutOver, EventVerifier

Protocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
Mechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]


@dataclass(frozen=True, slots=True)
class KafkaConnection:
    bootstrap: str
    security_protocol: Protocol = "PLAINTEXT"
    sasl_mechanism: Mechanism = "SCRAM-SHA-512"
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    trust: EventVerifier | None = field(default=None, compare=False)
    """What the reader admits of the signed topics (``LogRecord.decoded``); a service's
    connection always has one (``KafkaClientSettings.kafka``), ``None`` is for tools
    and tests that read without judging."""

    @property
    def ssl(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @property
    def sasl(self) -> bool:
        return self.security_protocol.startswith("SASL")

    def client_args(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's producer, consumer and admin client."""
        args: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": self.security_protocol,
        }
        if self.ssl:
            args["ssl_context"] = create_ssl_context(
                cafile=None if self.ca_file is None else str(self.ca_file)
            )
        if self.sasl:
            args.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.username,
                sasl_plain_password=self.password,
            )
        return args


class KafkaClientSettings(BaseSettings):
    """Mixed into a service's settings; the variables take that service's prefix."""

    kafka_bootstrap: str = Field(default="127.0.0.1:9092", description="Kafka bootstrap servers.")
    kafka_security_protocol: Protocol = Field(
        default="PLAINTEXT", description="PLAINTEXT locally; SASL_SSL on a shared cluster."
    )
    kafka_sasl_mechanism: Mechanism = Field(
        default="SCRAM-SHA-512", description="SASL mechanism of the service's principal."
    )
    kafka_username: str | None = Field(default=None, description="The service's principal.")
    kafka_password: SecretStr | None = Field(default=None, description="Its password.")
    kafka_ca_file: Path | None = Field(
        default=None, description="CA bundle for the brokers' TLS certificates (PEM)."
    )

    event_keys_file: Path | None = Field(
        default=None,
        description="The keys that verify events on the consent and catalogue topics: a "
        "JWKS file (or one PEM public key), reloaded when it changes. Unset: no event is "
        "admitted but legacy history (fail closed).",
    )
    events_signed_from: str = Field(
        default="",
        description="The cut-over for history written before events were signed: "
        "'topic:partition=offset,…', each partition's first offset that must be signed "
        "(unnamed partitions: every record). Earlier unsigned records are admitted as legacy.",
    )

    @field_validator("events_signed_from")
    @classmethod
    def _cut_over(cls, text: str) -> str:
        CutOver.parse(text)
        return text

    def event_verifier(self) -> EventVerifier:
        """What this service admits of the signed topics (one per reader: it remembers
        the batch roots it verified)."""
        keys = None if self.event_keys_file is None else KeySet(self.event_keys_file)
        return EventVerifier(keys, CutOver.parse(self.events_signed_from))

    def kafka(self) -> KafkaConnection:
        return KafkaConnection(
            self.kafka_bootstrap,
            self.kafka_security_protocol,
            self.kafka_sasl_mechanism,
            self.kafka_username,
            None if self.kafka_password is None else self.kafka_password.get_secret_value(),
            self.kafka_ca_file,
            self.event_verifier(),
        )

"""The auditor's read access to the logs: ``consentry-admin verify-chain`` and
``consentry-admin statement`` read Kafka as the principal ``consentry-auditor`` (reads
only; deploy/kafka/README.md)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click
from pydantic_settings import SettingsConfigDict

from consentry_kafka import KafkaClientSettings, KafkaConnection

Command = TypeVar("Command", bound=Callable[..., Any])


class AuditSettings(KafkaClientSettings):
    """The auditor's Kafka connection, from ``CONSENTRY_AUDIT_KAFKA_*`` (its own principal)."""

    model_config = SettingsConfigDict(env_prefix="CONSENTRY_AUDIT_", extra="ignore")


def bootstrap_option(command: Command) -> Command:
    """``--bootstrap``: where the auditor reads."""
    return click.option(
        "--bootstrap",
        default=lambda: os.environ.get("CONSENTRY_KAFKA_BOOTSTRAP"),
        help="Kafka bootstrap servers; default $CONSENTRY_KAFKA_BOOTSTRAP, else "
        "$CONSENTRY_AUDIT_KAFKA_BOOTSTRAP (with the other CONSENTRY_AUDIT_KAFKA_* settings).",
    )(command)


def auditor(bootstrap: str | None) -> KafkaConnection:
    settings = AuditSettings()
    if bootstrap:
        settings = settings.model_copy(update={"kafka_bootstrap": bootstrap})
    return settings.kafka()

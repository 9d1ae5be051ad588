"""Kafka credentials come from settings and reach every client the same way."""

from __future__ import annotations

import faust
import pytest

from consentry_kafka.batches import faust_credentials
from consentry_materialiser.settings import MaterialiserSettings
from consentry_writeapi.settings import WriteSettings


def test_plaintext_by_default() -> None:
    kafka = MaterialiserSettings().kafka()
    assert kafka.client_args() == {
        "bootstrap_servers": "127.0.0.1:9092",
        "security_protocol": "PLAINTEXT",
    }
    assert faust_credentials(kafka) is None


def test_sasl_scram_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENTRY_WRITE_KAFKA_BOOTSTRAP", "broker1:9093")
    monkeypatch.setenv("CONSENTRY_WRITE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("CONSENTRY_WRITE_KAFKA_USERNAME", "consentry-writeapi")
    monkeypatch.setenv("CONSENTRY_WRITE_KAFKA_PASSWORD", "s3cret")
    monkeypatch.setenv("CONSENTRY_WRITE_AUTH_PUBLIC_KEY_FILE", "/dev/null")
    monkeypatch.setenv("CONSENTRY_WRITE_EVENT_SIGNING_KEY_FILE", "/dev/null")
    settings = WriteSettings()
    assert "s3cret" not in repr(settings), "the password is a secret in settings"
    args = settings.kafka().client_args()
    assert args["security_protocol"] == "SASL_SSL"
    assert args["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (args["sasl_plain_username"], args["sasl_plain_password"]) == (
        "consentry-writeapi",
        "s3cret",
    )
    assert args["ssl_context"] is not None
    credentials = faust_credentials(settings.kafka())
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.username == "consentry-writeapi"
    assert credentials.mechanism.value == "SCRAM-SHA-512"

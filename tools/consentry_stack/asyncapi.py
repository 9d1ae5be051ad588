"""The event contracts as an AsyncAPI 3 document, generated from the code so it cannot
drift: a channel per topic of ``consentry_events.topics`` (partitions, retention and
compaction from its ``TopicSpec``), the messages on it with their payload schemas from
the event models (``consentry_events.schema.MODELS``), their keys and headers (the
signature headers of ``consentry_events.signing`` on the signed topics), and an
operation per principal that may write or read the topic -- the ACL lines of
deploy/kafka/README.md, which the test suite runs against a real broker.

``python -m consentry_stack.asyncapi [FILE]`` writes it (default docs/asyncapi.yaml);
``tests/unit/test_asyncapi.py`` validates it against AsyncAPI's published JSON Schema
and keeps the file current.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic.json_schema import models_json_schema

from consentry_events import topics
from consentry_events.schema import MODELS
from consentry_events.signing import KEY_ID, PATH, SIGNATURE, SIGNED_TOPICS
from consentry_events.topics import ENFORCEMENT, TOPICS, TopicSpec
from consentry_stack.kafka_guide import documented_grants
from consentry_tracing import TRACEPARENT

OUT = Path("docs/asyncapi.yaml")
BINDING = "0.5.0"


@dataclass(frozen=True)
class Carried:
    """What a topic carries: its messages (``MODELS`` names, or raw) and its key."""

    messages: tuple[str, ...]
    key: str


CARRIED: dict[str, Carried] = {
    topics.CONSENT_CHANGES.name: Carried(
        (
            "consent-changed.v1",
            "consent-changed-many.v1",
            "delegation-changed.v1",
            "disclosure-stated.v1",
        ),
        "The party's id: all of a party's events on one partition, in its order.",
    ),
    topics.CATALOGUE.name: Carried(("track-changed.v1",), "The ISRC (latest record wins)."),
    topics.ENFORCEMENT.name: Carried(
        ("enforcement-changed.v1",), "`<isrc>|<purpose>`: every change in order per pair."
    ),
    topics.ENFORCEMENT_STATE.name: Carried(
        ("raw",), "`<isrc>|<purpose>`: what downstream was last told (compacted)."
    ),
    topics.DOWNSTREAM_SYSTEMS.name: Carried(
        ("downstream-registered.v1",), "The system's name (latest record wins)."
    ),
    topics.RECEIPTS.name: Carried(("receipt-given.v1",), "`<system>|<change>`."),
    topics.USAGE.name: Carried(
        ("usage-reported.v1", "attribution-reported.v1"),
        "The reporter: one reporter's reports on one partition, in order.",
    ),
    topics.VIOLATIONS.name: Carried(("usage-violation.v1",), "The ISRC."),
    topics.DEAD_LETTER.name: Carried(
        ("raw",), "The refused record's key; its value as it was; headers say why and where."
    ),
    **{
        spec.name: Carried(("raw",), "A meter table's key (the faust table's changelog).")
        for spec in topics.METER_CHANGELOGS
    },
}


def _id(name: str) -> str:
    """An AsyncAPI key for a topic or model name (letters, digits, dots, dashes)."""
    return name.replace(".", "-").removesuffix("-v1")


def _message_id(name: str) -> str:
    return "raw" if name == "raw" else _id(name)


def _channel(spec: TopicSpec) -> dict[str, Any]:
    carried = CARRIED[spec.name]
    configuration: dict[str, Any] = {
        "cleanup.policy": spec.configs.get("cleanup.policy", "delete").split(","),
    }
    for setting in ("retention.ms", "retention.bytes"):
        if setting in spec.configs:
            configuration[setting] = int(spec.configs[setting])
    signed = spec.name in SIGNED_TOPICS
    return {
        "address": spec.name,
        "description": f"Key: {carried.key}"
        + (" Every record signed by the write API (headers)." if signed else ""),
        "messages": {
            _message_id(m): {"$ref": f"#/components/messages/{_message_ref(m, signed)}"}
            for m in carried.messages
        },
        "bindings": {
            "kafka": {
                "topic": spec.name,
                "partitions": spec.partitions,
                "replicas": 3,
                "topicConfiguration": configuration,
                "bindingVersion": BINDING,
            }
        },
    }


def _message_ref(name: str, signed: bool) -> str:
    return _message_id(name) + ("-signed" if signed else "")


def _messages(schemas: dict[str, str]) -> dict[str, Any]:
    signature_headers = {
        "type": "object",
        "required": [KEY_ID, SIGNATURE, PATH],
        "properties": {
            KEY_ID: {"type": "string", "description": "The signing key's RFC 7638 thumbprint."},
            SIGNATURE: {
                "type": "string",
                "description": "Ed25519 over the batch's Merkle root (64 bytes).",
            },
            PATH: {"type": "string", "description": "The record's path to the root."},
            TRACEPARENT: {
                "type": "string",
                "description": "W3C trace context of the request that wrote the record, "
                "when that request was sampled (consentry_tracing); optional.",
            },
        },
    }
    traced_headers = {
        "type": "object",
        "properties": {
            TRACEPARENT: {
                "type": "string",
                "description": "W3C trace context of the enforcer's span, when the change "
                "was caused by a record of a sampled trace (consentry_tracing); optional.",
            }
        },
    }
    found: dict[str, Any] = {
        "raw": {
            "name": "raw",
            "contentType": "application/octet-stream",
            "payload": {"type": "string", "description": "Bytes, not an event model."},
        }
    }
    for spec in TOPICS:
        signed = spec.name in SIGNED_TOPICS
        for name in CARRIED[spec.name].messages:
            if name == "raw":
                continue
            model = MODELS[name]
            message: dict[str, Any] = {
                "name": name,
                "title": model.__name__,
                "contentType": "application/json",
                "payload": {"$ref": schemas[name]},
                "bindings": {
                    "kafka": {
                        "key": {"type": "string", "description": CARRIED[spec.name].key},
                        "bindingVersion": BINDING,
                    }
                },
            }
            if model.__doc__:
                message["summary"] = model.__doc__.strip().splitlines()[0]
            if signed:
                message["headers"] = signature_headers
            elif spec.name == ENFORCEMENT.name:
                message["headers"] = traced_headers
            found[_message_ref(name, signed)] = message
    return found


def _operations() -> dict[str, Any]:
    by_topic: dict[tuple[str, str], set[str]] = defaultdict(set)
    for principal, kind, resource, pattern, operation in documented_grants():
        if kind != "topic" or pattern != "literal" or resource not in CARRIED:
            continue
        if operation in ("Write", "All"):
            by_topic[principal, resource].add("send")
        if operation in ("Read", "All"):
            by_topic[principal, resource].add("receive")
    operations: dict[str, Any] = {}
    for (principal, topic), actions in sorted(by_topic.items()):
        channel = _id(topic)
        for action in sorted(actions):
            verb = "writes" if action == "send" else "reads"
            operations[f"{_id(principal)}-{verb}-{channel}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{channel}"},
                "summary": f"The principal User:{principal} {verb} {topic}.",
                "x-principal": f"User:{principal}",
            }
    return operations


def document() -> dict[str, Any]:
    _, definitions = models_json_schema(
        [(MODELS[n], "validation") for n in sorted(MODELS)],
        ref_template="#/components/schemas/{model}",
    )
    schemas = {n: f"#/components/schemas/{MODELS[n].__name__}" for n in MODELS}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Consentry event contracts",
            "version": "1.0.0",
            "description": "Every topic Consentry writes or reads, the records on it, and "
            "which Kafka principal may write or read it. Generated by "
            "`python -m consentry_stack.asyncapi` from the code; do not edit.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "The launcher's broker (`make up`), PLAINTEXT on loopback.",
            },
            "cluster": {
                "host": "consentry-kafka-bootstrap:9093",
                "protocol": "kafka-secure",
                "description": "A cluster: TLS and a SCRAM principal per service.",
                "security": [{"$ref": "#/components/securitySchemes/scram"}],
            },
        },
        "channels": {_id(spec.name): _channel(spec) for spec in TOPICS},
        "operations": _operations(),
        "components": {
            "schemas": definitions["$defs"],
            "messages": _messages(schemas),
            "securitySchemes": {
                "scram": {
                    "type": "scramSha512",
                    "description": "One principal per service (deploy/kafka/README.md).",
                }
            },
        },
    }


def render() -> str:
    return yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=100)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render())

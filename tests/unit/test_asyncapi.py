"""The event contracts' AsyncAPI 3 document (issue 28): valid by AsyncAPI's published
JSON Schema (fetched by the set-up), every reference in it resolving, every topic a
channel and every event model a message, the signed topics' messages carrying the
signature headers, the principals those of the Kafka guide -- and the committed file
the one the code generates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from consentry_events.schema import MODELS
from consentry_events.signing import KEY_ID, PATH, SIGNATURE, SIGNED_TOPICS
from consentry_events.topics import CONSENT_CHANGES, TOPICS, USAGE
from consentry_stack import asyncapi

ROOT = Path(__file__).parents[2]


def published_schema() -> dict[str, Any]:
    [found] = (ROOT / ".tools" / "asyncapi").glob("*/3.0.0-without-$id.json")
    schema: dict[str, Any] = json.loads(found.read_text())
    return schema


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        assert isinstance(node, dict), ref
        assert part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def test_the_document_is_valid_asyncapi_3() -> None:
    document = json.loads(json.dumps(asyncapi.document()))
    validator = jsonschema_rs.Draft7Validator(published_schema())
    problems = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(document)]
    assert not problems, problems[:5]
    assert not validator.is_valid({**document, "asyncapi": "9.0.0"}), "it refuses what is wrong"
    for ref in refs(document):
        resolve(document, ref)


def test_every_topic_and_model_is_there_and_signed_ones_say_so() -> None:
    document = asyncapi.document()
    addresses = {c["address"] for c in document["channels"].values()}
    assert addresses == {spec.name for spec in TOPICS}
    named = {m.get("name") for m in document["components"]["messages"].values()}
    assert set(MODELS) <= named
    for channel in document["channels"].values():
        for ref in channel["messages"].values():
            message = resolve(document, ref["$ref"])
            headers = message.get("headers", {}).get("required", [])
            signed = channel["address"] in SIGNED_TOPICS and message["name"] != "raw"
            assert (headers == [KEY_ID, SIGNATURE, PATH]) == signed, channel["address"]


def test_the_principals_are_the_kafka_guide_s() -> None:
    operations = asyncapi.document()["operations"].values()
    writers = {
        (o["x-principal"], o["channel"]["$ref"].rsplit("/", 1)[1])
        for o in operations
        if o["action"] == "send"
    }
    consent = asyncapi._id(CONSENT_CHANGES.name)
    assert {p for p, channel in writers if channel == consent} == {"User:consentry-writeapi"}
    usage = asyncapi._id(USAGE.name)
    assert {p for p, channel in writers if channel == usage} == {"User:consentry-usage"}


def test_the_committed_document_is_the_generated_one() -> None:
    committed = (ROOT / asyncapi.OUT).read_text()
    assert committed == asyncapi.render(), "run `python -m consentry_stack.asyncapi`"
    assert yaml.safe_load(committed)["asyncapi"] == "3.0.0"

"""What the OpenAPI documents say beyond JSON Schema, taught to schemathesis: its hooks
for ``st run`` (``schemathesis.toml`` names this module) and for
``tests/integration/test_openapi.py`` alike.

* An operation's ``x-consentry-rules`` (``consentry_http.inputs.body_rules``): rules
  between two body fields. A request generated to be valid is made to keep them
  (``after``: a window that does not end after it starts loses its end; ``differs``: a
  delegate equal to the party is changed), so it is valid by the document's own words.
* An Idempotency-Key belongs to one request (the header's description): a request
  generated to be valid gets a fresh one, as a real client's does.

Requests generated to be invalid are left alone: the rules' refusals are checked too.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import schemathesis
from schemathesis import Case, GenerationMode

RULES = "x-consentry-rules"


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _kept(rule: dict[str, str], body: dict[str, Any]) -> None:
    if "after" in rule:
        end, start = _moment(body.get(rule["after"])), _moment(body.get(rule["than"]))
        if end is not None and start is not None:
            try:
                wrong = end <= start
            except TypeError:  # one with a zone, one without: the API refuses it anyway
                wrong = True
            if wrong:
                del body[rule["after"]]
    elif "differs" in rule:
        value = body.get(rule["differs"])
        if isinstance(value, str) and value == body.get(rule["from"]):
            body[rule["differs"]] = value[:-1] + ("y" if value.endswith("x") else "x")


@schemathesis.hook
def map_case(context: Any, case: Case[Any]) -> Case[Any]:
    meta = case.meta
    if meta is None or meta.generation.mode is not GenerationMode.POSITIVE:
        return case
    if isinstance(case.body, dict):
        for rule in case.operation.definition.raw.get(RULES, []):
            _kept(rule, case.body)
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
    return case

"""What the OpenAPI documents say beyond JSON Schema, taught to schemathesis: its hooks
for ``st run`` (``schemathesis.toml`` names this module) and for
``tests/integration/test_openapi.py`` alike.

* An operation's ``x-consentry-rules`` (``consentry_http.inputs.body_rules``): rules
  between two body fields. A request generated to be valid is made to keep them
  (``after``: a window that does not end after it starts loses its end; ``differs``: a
  delegate equal to the party is changed), so it is valid by the document's own words.
  (``empty``: a list that must be empty while another field is null is emptied;
  ``shares``: shares that break the share rules are left out -- they are optional;
  ``recent``: a moment outside the window before now is made now; ``sums``: repeated
  items are dropped and each group's first item takes the whole 1).
* An Idempotency-Key belongs to one request (the header's description): a request
  generated to be valid gets a fresh one, as a real client's does.
* A body JSON Schema cannot describe (``application/xml``: an ERN message) is, when
  generated to be valid, the operation's documented example, sent as it is written
  (schemathesis's own XML serializer would wrap a string in an element of its own).

Requests generated to be invalid are left alone: the rules' refusals are checked too.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
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
    elif "empty" in rule and body.get(rule["when_null"], "") is None:
        body.pop(rule["empty"], None)
    elif "shares" in rule and not _shares_kept(body.get(rule["shares"]), body.get(rule["of"])):
        body.pop(rule["shares"], None)
    elif "sums" in rule and isinstance(body.get(rule["sums"]), list):
        _summed(rule, body[rule["sums"]])
    elif "recent" in rule and isinstance(body.get(rule["in"]), list):
        now = datetime.now(UTC)
        for item in body[rule["in"]]:
            moment = _moment(item.get(rule["recent"])) if isinstance(item, dict) else None
            if moment is not None and moment.tzinfo is not None:
                age = (now - moment).total_seconds()
                if not 0 <= age <= float(rule["within_s"]) - 60:
                    item[rule["recent"]] = now.isoformat()


def _summed(rule: dict[str, str], items: list[Any]) -> None:
    seen: set[Any] = set()
    groups: set[Any] = set()
    for item in list(items):
        if not isinstance(item, dict):
            return  # not the shape the rule speaks of: the schema's checks judge it
        place = (item.get(rule["once_per"]), item.get(rule["by"]))
        if place in seen:
            items.remove(item)
            continue
        seen.add(place)
        first = place[1] not in groups
        groups.add(place[1])
        item[rule["value"]] = 1 if first else 0


def _shares_kept(shares: Any, holders: Any) -> bool:
    if not isinstance(shares, list) or not isinstance(holders, list):
        return True  # not the shapes the rule speaks of: the schema's checks judge them
    sums: dict[Any, int] = {}
    seen = set()
    for share in shares:
        if not isinstance(share, dict):
            return True
        party, side = share.get("party"), share.get("side")
        if party not in holders or (party, side) in seen:
            return False
        seen.add((party, side))
        sums[side] = sums.get(side, 0) + int(share.get("basis_points", 0))
    return all(total == 10_000 for total in sums.values())


@schemathesis.serializer("application/xml")
def xml_as_written(ctx: Any, value: Any) -> bytes:
    """A string is the document itself; anything else (a body generated to be invalid)
    goes as JSON text, which no ERN reader takes."""
    return value.encode() if isinstance(value, str) else json.dumps(value).encode()


@schemathesis.hook
def map_case(context: Any, case: Case[Any]) -> Case[Any]:
    meta = case.meta
    if meta is None or meta.generation.mode is not GenerationMode.POSITIVE:
        return case
    if isinstance(case.body, dict):
        for rule in case.operation.definition.raw.get(RULES, []):
            _kept(rule, case.body)
    if case.media_type == "application/xml":
        content = case.operation.definition.raw["requestBody"]["content"]
        case.body = content["application/xml"]["example"]
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
    return case

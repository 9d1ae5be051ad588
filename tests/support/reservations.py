"""Readers of the reservation formats, written from their specifications for the tests
(never from Consentry's generator): what a crawler would make of a generated file.

* TDMRep (W3C final community group report, "TDM File"): rules are read in order and the
  first whose ``location`` matches the path wins -- a pattern matches from the path's start
  up to its end (a prefix), ``*`` is any run of characters and a final ``$`` anchors the
  end; no matching rule leaves ``tdm-reservation`` unset.
* robots.txt ``Content-Usage`` (draft-ietf-aipref-attach): in the group for the crawler,
  the rule with the longest matching path applies (a rule without a path matches every
  path); rules with identical paths combine, the most restrictive winning; a value that
  does not parse as a structured-field dictionary says nothing.
"""

from __future__ import annotations

import re
from typing import Any

from http_sf import StructuredFieldError, Token, parse


def dictionary(field: str) -> dict[str, Any]:
    """An RFC 9651 dictionary field, parsed by a maintained library (``http-sf``)."""
    parsed = parse(field.encode(), tltype="dictionary")
    assert isinstance(parsed, dict), parsed
    return parsed


def _pattern(location: str) -> re.Pattern[str]:
    anchored = location.endswith("$")
    body = location[:-1] if anchored else location
    regex = ".*".join(re.escape(part) for part in body.split("*"))
    return re.compile(regex + ("$" if anchored else ""))


def tdm_reservation(rules: list[dict[str, Any]], path: str) -> int | None:
    for rule in rules:
        if _pattern(rule["location"]).match(path):
            value = rule["tdm-reservation"]
            return value if value in (0, 1) else None
    return None


def content_usage(robots: str, path: str, category: str) -> str | None:
    """``y``, ``n`` or None (unknown) for ``category`` at ``path``, for user agent ``*``."""
    found: list[tuple[int, str]] = []
    for raw in robots.splitlines():
        name, _, value = raw.partition(":")
        if name.strip().lower() != "content-usage":
            continue
        value = value.split("#", 1)[0].strip()
        prefix = "/"
        if value.startswith("/"):
            prefix, _, value = value.partition(" ")
        if not path.startswith(prefix):
            continue
        try:
            usage = dictionary(value.strip())
        except StructuredFieldError:
            continue
        said = usage.get(category, (None, {}))[0]
        if isinstance(said, Token) and str(said) in ("y", "n"):
            found.append((len(prefix), str(said)))
    if not found:
        return None
    longest = max(length for length, _ in found)
    values = {v for length, v in found if length == longest}
    return "n" if "n" in values else "y"

"""Reading ERN elements strictly: a mandatory element missing or empty, a reference to
what the message does not hold, a value outside its allowed set -- each refused with the
message, the element's path and its line."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from lxml import etree

from consentry_ern.model import ErnError

AI_LEVELS = {"All": "all", "Partly": "partly", "None": "none"}


class Reader:
    def __init__(self, root: etree._Element, version: str, name: str) -> None:
        self._root = root
        self.version = version
        self.name = name

    def fail(self, node: etree._Element | None, element: str, reason: str) -> ErnError:
        return ErnError(self.name, element, None if node is None else line_of(node), reason)

    def one(self, node: etree._Element, path: str) -> etree._Element:
        found = node.find(path)
        if found is None:
            raise self.fail(node, f"{path_of(node)}/{path}", "is missing (mandatory)")
        return found

    def text(self, node: etree._Element, path: str) -> str:
        found = self.one(node, path)
        value = (found.text or "").strip()
        if not value:
            raise self.fail(found, path_of(found), "is empty")
        return value

    def optional(self, node: etree._Element, path: str) -> str | None:
        found = node.find(path)
        value = None if found is None else (found.text or "").strip()
        return value or None

    def level(self, node: etree._Element, path: str) -> str | None:
        """An AI disclosure (4.3.2): ``All`` / ``Partly`` / ``None``, else refused."""
        if self.version == "4.3":
            return None
        found = node.find(path)
        if found is None:
            return None
        value = (found.text or "").strip()
        if value not in AI_LEVELS:
            raise self.fail(found, path_of(found), f"{value!r} is not All, Partly or None")
        return AI_LEVELS[value]


def line_of(node: etree._Element) -> int:
    line = node.sourceline
    return line if isinstance(line, int) else 0


def path_of(node: etree._Element) -> str:
    """The element's path from the root, by local names: what an error names."""
    names = []
    at: etree._Element | None = node
    while at is not None:
        names.append(etree.QName(at).localname)
        at = at.getparent()
    return "/".join(reversed(names))


def moment(reader: Reader, node: etree._Element) -> datetime:
    text = (node.text or "").strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise reader.fail(node, path_of(node), f"{text!r} is not a date-time") from None


def known(reader: Reader, node: etree._Element, reference: str, known: Mapping[str, object]) -> str:
    if reference not in known:
        reason = f"refers to {reference}, which the message does not hold"
        raise reader.fail(node, path_of(node), reason)
    return reference


def roles(reader: Reader, node: etree._Element) -> tuple[str, ...]:
    roles = []
    for role in node.findall("Role"):
        value = role.find("Value")  # 4.3.1 on: <Role><Value>Composer</Value></Role>
        text = (value.text if value is not None else role.text) or ""
        if text.strip():
            roles.append(text.strip())
    return tuple(roles)

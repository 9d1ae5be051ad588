"""A strict reader of DDEX ERN 4.3 and 4.3.2 ``NewReleaseMessage`` files: just the elements
Consentry needs, read with a real XML library, every refusal naming the message, the
element and its line.

What is read: the message header (its id, sender, when it was created); the parties
(references, names, ISNI / DPID / proprietary ids); the sound recordings (ISRC, title,
display artists, contributors with their roles and, in 4.3.2, ``AiContribution`` and
``SpecialContributor`` = ``GenerativeAI``, ``ContainsAI``, rights controllers and their
shares); the main release (ICPN, title, label, display artists, ``ContainsAI``, the
recordings it groups, discs included) and the deals' use types and validity. Everything
else is left unread: an element this reader does not know is not an error.

Refused before anything is read: a file over the size limit, a DTD (entities, external or
internal, are how XML is made hostile: none is ever resolved), another root, namespace or
version. Refused while reading: a mandatory element missing, a reference to a party or a
recording the message does not hold, an ISRC or ICPN that is not one. A message is all or
nothing: one refusal refuses it whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from consentry_ern import sections
from consentry_ern.elements import Reader, line_of, moment, path_of
from consentry_ern.model import ErnError, Message, Party

NAMESPACES = {"http://ddex.net/xml/ern/43": "4.3", "http://ddex.net/xml/ern/432": "4.3.2"}
"""The ERN versions read, by namespace; only 4.3.2 carries AI disclosure."""
MAX_BYTES = 32 * 1024 * 1024
"""A message larger than this is refused unread (a 10,000-track album is ~20 MB)."""
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


def read_message(data: bytes, name: str = "(message)") -> Message:
    """The message, or ``ErnError`` naming what is wrong (nothing else is raised)."""
    if len(data) > MAX_BYTES:
        raise ErnError(name, "(file)", None, f"larger than {MAX_BYTES:,} bytes")
    if (hostile := _DOCTYPE.search(data)) is not None:
        line = data.count(b"\n", 0, hostile.start()) + 1
        raise ErnError(name, "DOCTYPE", line, "a DTD is not accepted (no entities are resolved)")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ErnError(name, "(document)", exc.lineno, f"not well-formed XML: {exc.msg}") from None
    qname = etree.QName(root)
    if qname.localname != "NewReleaseMessage":
        raise ErnError(name, qname.localname, line_of(root), "not a NewReleaseMessage")
    if qname.namespace not in NAMESPACES:
        raise ErnError(
            name,
            qname.localname,
            line_of(root),
            f"namespace {qname.namespace!r} is not ERN 4.3 or 4.3.2 ({', '.join(NAMESPACES)})",
        )
    reader = Reader(root, NAMESPACES[qname.namespace], name)
    header = reader.one(root, "MessageHeader")
    reader.name = message_id = reader.text(header, "MessageId")
    sender = reader.optional(header, "MessageSender/PartyName/FullName") or reader.text(
        header, "MessageSender/PartyId"
    )
    created = moment(reader, reader.one(header, "MessageCreatedDateTime"))
    parties = {p.reference: p for p in _parties(reader, reader.one(root, "PartyList"))}
    resources = reader.one(root, "ResourceList")
    recordings = {r.reference: r for r in sections.recordings(reader, resources, parties)}
    releases = reader.one(root, "ReleaseList")
    release = sections.release(reader, releases, parties, recordings, root)
    takedown = not any(sections.in_force(d, created) for d in release.deals)
    return Message(
        message_id, reader.version, sender, created, parties, recordings, release, takedown
    )


def _parties(reader: Reader, party_list: etree._Element) -> Iterator[Party]:
    for node in party_list.findall("Party"):
        reference = reader.text(node, "PartyReference")
        isni = dpid = None
        proprietary: list[tuple[str, str]] = []
        for pid in node.findall("PartyId"):
            isni = isni or reader.optional(pid, "ISNI")
            dpid = dpid or reader.optional(pid, "DPID")
            for prop in pid.findall("ProprietaryId"):
                proprietary.append((prop.get("Namespace", ""), (prop.text or "").strip()))
        name = reader.optional(node, "PartyName/FullName")
        if name is None and isni is None and dpid is None and not proprietary:
            raise reader.fail(node, path_of(node), f"party {reference} has neither name nor id")
        yield Party(reference, name, isni, dpid, tuple(proprietary))

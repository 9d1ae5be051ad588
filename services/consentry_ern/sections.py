"""The parts of a release delivery Consentry reads: its sound recordings (with their
credits, AI disclosure and rights controllers), its main release (the recordings it
groups, discs included) and the deals on it."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime

from lxml import etree

from consentry_ern.elements import Reader, known, line_of, path_of, roles
from consentry_ern.model import Controller, Credit, Deal, Party, Recording, Release

ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$")
ICPN = re.compile(r"^[0-9]{12,14}$")


def recordings(
    reader: Reader, resources: etree._Element, parties: Mapping[str, Party]
) -> Iterator[Recording]:
    for node in resources.findall("SoundRecording"):
        reference = reader.text(node, "ResourceReference")
        isrc = reader.text(node, "SoundRecordingEdition/ResourceId/ISRC").upper()
        if not ISRC.fullmatch(isrc):
            where = reader.one(node, "SoundRecordingEdition/ResourceId/ISRC")
            raise reader.fail(where, path_of(where), f"{isrc!r} is not an ISRC")
        artists = tuple(
            known(reader, a, reader.text(a, "ArtistPartyReference"), parties)
            for a in node.findall("DisplayArtist")
            if a.find("ArtistPartyReference") is not None
        )
        credits = tuple(_credit(reader, c, parties) for c in node.findall("Contributor"))
        controllers = tuple(
            _controller(reader, c, parties) for c in node.findall("ResourceRightsController")
        )
        yield Recording(
            reference,
            isrc,
            reader.text(node, "DisplayTitleText"),
            artists,
            credits,
            controllers,
            reader.level(node, "ContainsAI"),
            line_of(node),
        )


def _credit(reader: Reader, node: etree._Element, parties: Mapping[str, Party]) -> Credit:
    reference = reader.optional(node, "ContributorPartyReference")
    if reference is not None:
        known(reader, node, reference, parties)
    special = None if reader.version == "4.3" else reader.optional(node, "SpecialContributor")
    if reference is None and special is None:
        raise reader.fail(node, path_of(node), "names neither a party nor a special contributor")
    ai = reader.level(node, "AiContribution")
    if special == "GenerativeAI" and ai is None:
        ai = "all"  # the standard's default for a GenerativeAI contributor
    return Credit(reference, special, roles(reader, node), ai)


def _controller(reader: Reader, node: etree._Element, parties: Mapping[str, Party]) -> Controller:
    reference = known(reader, node, reader.text(node, "RightsControllerPartyReference"), parties)
    roles = tuple((r.text or "").strip() for r in node.findall("RightsControlType"))
    share = reader.optional(node, "RightSharePercentage")
    try:
        percent = None if share is None else float(share)
    except ValueError:
        percent = -1.0
    if percent is not None and not 0 <= percent <= 100:
        where = path_of(node) + "/RightSharePercentage"
        raise reader.fail(node, where, f"{share!r} is not a percentage (0 to 100)")
    return Controller(reference, roles, percent)


def _group_items(group: etree._Element) -> Iterator[etree._Element]:
    """Content items in order, nested groups (discs) in their sequence."""
    for child in group:
        local = etree.QName(child).localname
        if local == "ResourceGroup":
            yield from _group_items(child)
        elif local == "ResourceGroupContentItem":
            yield child


def release(
    reader: Reader,
    releases: etree._Element,
    parties: Mapping[str, Party],
    recordings: Mapping[str, Recording],
    root: etree._Element,
) -> Release:
    node = reader.one(releases, "Release")
    reference = reader.text(node, "ReleaseReference")
    icpn = reader.text(node, "ReleaseId/ICPN")
    if not ICPN.fullmatch(icpn):
        where = reader.one(node, "ReleaseId/ICPN")
        raise reader.fail(where, path_of(where), f"{icpn!r} is not an ICPN (UPC/EAN, 12-14 digits)")
    labels = tuple(
        known(reader, label, (label.text or "").strip(), parties)
        for label in node.findall("ReleaseLabelReference")
    )
    if not labels:
        raise reader.fail(node, path_of(node) + "/ReleaseLabelReference", "is missing (mandatory)")
    artists = tuple(
        known(reader, a, reader.text(a, "ArtistPartyReference"), parties)
        for a in node.findall("DisplayArtist")
        if a.find("ArtistPartyReference") is not None
    )
    items = [
        known(reader, item, reader.text(item, "ReleaseResourceReference"), recordings)
        for item in _group_items(reader.one(node, "ResourceGroup"))
    ]
    if not items:
        raise reader.fail(node, path_of(node) + "/ResourceGroup", "lists no recording")
    deals = tuple(_deals(reader, root, reference))
    return Release(
        reference,
        icpn,
        reader.text(node, "DisplayTitleText"),
        artists,
        labels,
        tuple(dict.fromkeys(items)),
        reader.level(node, "ContainsAI"),
        deals,
        line_of(node),
    )


def _deals(reader: Reader, root: etree._Element, release: str) -> Iterator[Deal]:
    for release_deal in root.findall("DealList/ReleaseDeal"):
        targets = [(r.text or "").strip() for r in release_deal.findall("DealReleaseReference")]
        if release not in targets:
            continue
        for deal in release_deal.findall("Deal"):
            terms = deal.find("DealTerms")
            if terms is None:
                continue
            period = terms.find("ValidityPeriod")
            start = end = None
            if period is not None:
                for tag in ("StartDateTime", "StartDate"):
                    if (found := period.find(tag)) is not None:
                        start = _day_or_moment(reader, found)
                for tag in ("EndDateTime", "EndDate"):
                    if (found := period.find(tag)) is not None:
                        end = _day_or_moment(reader, found)
            yield Deal(
                tuple((u.text or "").strip() for u in terms.findall("UseType")),
                start,
                end,
                tuple((t.text or "").strip() for t in terms.findall("TerritoryCode")),
            )


def _day_or_moment(reader: Reader, node: etree._Element) -> datetime:
    text = (node.text or "").strip()
    if len(text) == 10:
        text += "T00:00:00+00:00"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise reader.fail(node, path_of(node), f"{text!r} is not a date") from None
    return moment


def in_force(deal: Deal, at: datetime) -> bool:
    return deal.end is None or deal.end > at

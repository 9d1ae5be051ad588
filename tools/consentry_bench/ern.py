"""The ERN import's rate: a delivery of many DDEX ERN 4.3.2 messages (ERN 4 carries one
main release a message, so a "10,000-release file" is a 10,000-message delivery), each a
release of ``TRACKS_PER_RELEASE`` recordings with ``ContainsAI``, AI credits and master
shares, imported by one ``consentry-admin import-ern`` run; then the same delivery again
(every track unchanged). Tracks acknowledged by Kafka per second, end to end: files
read, parsed and validated, then sent through the bulk import; beside it, the same
delivery only read (the import's process pool, nothing sent), while the stack idles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from consentry_admin.ern_import import Read, read_files
from consentry_ern.catalogue import PartyRule
from consentry_stack.stack import Stack

RELEASES = 10_000
TRACKS_PER_RELEASE = 10
LEVELS = ("None", "Partly", "All")

_RECORDING = """    <SoundRecording>
      <ResourceReference>A{n}</ResourceReference>
      <Type>MusicalWorkSoundRecording</Type>
      <SoundRecordingEdition><ResourceId><ISRC>{isrc}</ISRC></ResourceId></SoundRecordingEdition>
      <DisplayTitleText>Track {n} of release {release}</DisplayTitleText>
      <DisplayTitle><TitleText>Track {n}</TitleText></DisplayTitle>
      <DisplayArtistName>Artist {artist}</DisplayArtistName>
      {display_artist}
      <Contributor SequenceNumber="1">
        <SpecialContributor>GenerativeAI</SpecialContributor>
        <Role><Value>MixingEngineer</Value></Role>
        <AiContribution>{level}</AiContribution>
      </Contributor>
      <ResourceRightsController>
        <RightsControllerPartyReference>PLabel</RightsControllerPartyReference>
        <RightsControlType>RightsController</RightsControlType>
        <RightSharePercentage>70</RightSharePercentage>
      </ResourceRightsController>
      <ResourceRightsController>
        <RightsControllerPartyReference>PArtist</RightsControllerPartyReference>
        <RightsControlType>RightsHolder</RightsControlType>
        <RightSharePercentage>30</RightSharePercentage>
      </ResourceRightsController>
      <Duration>PT3M30S</Duration>
      <ContainsAI>{level}</ContainsAI>
    </SoundRecording>
"""

_DISPLAY_ARTIST = """<DisplayArtist SequenceNumber="1">
        <ArtistPartyReference>PArtist</ArtistPartyReference>
        <DisplayArtistRole>MainArtist</DisplayArtistRole>
      </DisplayArtist>"""

_ITEM = (
    "        <ResourceGroupContentItem><SequenceNumber>{n}</SequenceNumber>"
    "<ReleaseResourceReference>A{n}</ReleaseResourceReference></ResourceGroupContentItem>\n"
)

_MESSAGE = """<?xml version="1.0" encoding="UTF-8"?>
<ern:NewReleaseMessage xmlns:ern="http://ddex.net/xml/ern/432"
    ReleaseProfileVersionId="Audio" AvsVersionId="9" LanguageAndScriptCode="en">
  <MessageHeader>
    <MessageId>BENCH-{release}</MessageId>
    <MessageSender>
      <PartyId>PADPIDA2026BE01A</PartyId><PartyName><FullName>Bench Records</FullName></PartyName>
    </MessageSender>
    <MessageRecipient><PartyId>PADPIDA2026PL01B</PartyId></MessageRecipient>
    <MessageCreatedDateTime>2026-12-01T09:00:00Z</MessageCreatedDateTime>
  </MessageHeader>
  <PartyList>
    <Party>
      <PartyReference>PArtist</PartyReference>
      <PartyName><FullName>Artist {artist}</FullName></PartyName>
    </Party>
    <Party>
      <PartyReference>PLabel</PartyReference>
      <PartyName><FullName>Bench Label {label}</FullName></PartyName>
      <PartyId><DPID>PADPIDA2026BL{label:02d}</DPID></PartyId>
    </Party>
  </PartyList>
  <ResourceList>
{recordings}  </ResourceList>
  <ReleaseList>
    <Release>
      <ReleaseReference>R0</ReleaseReference>
      <ReleaseType>Album</ReleaseType>
      <ReleaseId><ICPN>{upc}</ICPN></ReleaseId>
      <DisplayTitleText>Release {release}</DisplayTitleText>
      <DisplayTitle><TitleText>Release {release}</TitleText></DisplayTitle>
      <DisplayArtistName>Artist {artist}</DisplayArtistName>
      {display_artist}
      <ReleaseLabelReference>PLabel</ReleaseLabelReference>
      <DisplayGenre><GenreText>Pop</GenreText></DisplayGenre>
      <ResourceGroup>
{items}      </ResourceGroup>
      <ContainsAI>Partly</ContainsAI>
    </Release>
  </ReleaseList>
  <DealList>
    <ReleaseDeal>
      <DealReleaseReference>R0</DealReleaseReference>
      <Deal><DealTerms>
        <TerritoryCode>Worldwide</TerritoryCode>
        <ValidityPeriod><StartDate>2026-12-01</StartDate></ValidityPeriod>
        <UseType>OnDemandStream</UseType>
      </DealTerms></Deal>
    </ReleaseDeal>
  </DealList>
</ern:NewReleaseMessage>
"""


def message(release: int) -> str:
    """Release ``release``'s message: its ISRCs ``ZZERN`` + a 7-digit number, its UPC 13
    digits, an artist of its own and one of 20 labels."""
    artist, label = release, release % 20
    recordings = "".join(
        _RECORDING.format(
            display_artist=_DISPLAY_ARTIST,
            n=n + 1,
            isrc=f"ZZERN{release * TRACKS_PER_RELEASE + n:07d}",
            release=release,
            artist=artist,
            level=LEVELS[(release + n) % len(LEVELS)],
        )
        for n in range(TRACKS_PER_RELEASE)
    )
    items = "".join(_ITEM.format(n=n + 1) for n in range(TRACKS_PER_RELEASE))
    return _MESSAGE.format(
        display_artist=_DISPLAY_ARTIST,
        release=release,
        artist=artist,
        label=label,
        upc=f"8{release:012d}",
        recordings=recordings,
        items=items,
    )


def write_delivery(folder: Path, releases: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for release in range(releases):
        path = folder / f"BENCH-{release:05d}.xml"
        path.write_text(message(release))
        paths.append(path)
    return paths


def _import(stack: Stack, folder: Path) -> tuple[float, dict[str, Any]]:
    env = os.environ | {
        "CONSENTRY_WRITE_URL": stack.write_url,
        "CONSENTRY_TOKEN": stack.token("catalogue:bench-ern"),
    }
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "consentry-admin"), "import-ern", str(folder)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"import-ern failed: {done.stderr[-2000:]}")
    summary: dict[str, Any] = json.loads(done.stdout)
    summary.pop("tokens", None)
    return elapsed, summary


def import_rate(stack: Stack, folder: Path, releases: int) -> dict[str, Any]:
    """The delivery written to ``folder``, imported twice; rates and what each run did."""
    paths = write_delivery(folder, releases)
    megabytes = sum(p.stat().st_size for p in paths) / 1e6
    started = time.perf_counter()
    read = sum(
        len(r.records) for r in read_files(paths, PartyRule.load(None)) if isinstance(r, Read)
    )
    read_s = time.perf_counter() - started
    first_s, first = _import(stack, folder)
    again_s, again = _import(stack, folder)
    tracks = releases * TRACKS_PER_RELEASE
    return {
        "messages": releases,
        "tracks": tracks,
        "megabytes": round(megabytes, 1),
        "read_tracks_per_s": read / read_s,
        "new_s": round(first_s, 2),
        "new_tracks_per_s": tracks / first_s,
        "new": first,
        "reimport_s": round(again_s, 2),
        "reimport_tracks_per_s": tracks / again_s,
        "reimport": again,
    }

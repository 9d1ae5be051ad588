"""``consentry-admin import-ern``'s work: DDEX ERN messages read here (the write API's own
reader: each message whole or refused, naming its element and line), their tracks sent
through the bulk import in batches, and -- only with the label's own token -- the
decisions the label's deals imply."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from consentry_admin.importing import ImportRefused, send_tracks
from consentry_ern import ErnError, read_message
from consentry_ern.catalogue import PartyRule, track_records
from consentry_ern.deals import UseTypes, label_decisions
from consentry_writeapi.schemas import TrackRequest


@dataclass(slots=True)
class ErnSummary:
    messages: int = 0
    refused: int = 0
    tracks: int = 0
    superseded: int = 0
    """Records skipped because a newer message of the delivery holds the same track."""
    written: int = 0
    unchanged: int = 0
    decisions: int = 0
    tokens: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Read:
    """What the sending needs of a message (the message itself stays where it was read:
    sending it between processes would cost more than reading it)."""

    message_id: str
    created: datetime
    records: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    """The label's decisions its deals imply (asked for only)."""


PARALLEL_FROM = 16
"""Deliveries of at least this many files are read by a pool of processes (one per core),
ahead of the sending: parsing is the import's CPU work, sending mostly waits."""


def messages_in(given: Iterable[Path]) -> list[Path]:
    """The files given, each folder replaced by the ``.xml`` files in it (at any depth, in
    name order): a delivery as a folder."""
    found: list[Path] = []
    for path in given:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.xml") if p.is_file()))
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def read_file(path: Path, rule: PartyRule, use_types: UseTypes | None = None) -> Read | ErnError:
    """A file's track records (and with ``use_types`` the label's decisions), or why it
    is refused (as a whole)."""
    try:
        message = read_message(path.read_bytes(), path.name)
        records = track_records(message, rule)
        for record in records:
            TrackRequest.model_validate(record)
    except ErnError as error:
        return error
    except ValidationError as exc:
        reason = str(exc.errors(include_url=False)[0]["msg"])
        return ErnError(message.message_id, "SoundRecording", None, reason)
    decisions = [] if use_types is None else label_decisions(message, rule, use_types)
    return Read(message.message_id, message.created, records, decisions)


def read_files(
    paths: Sequence[Path], rule: PartyRule, use_types: UseTypes | None = None
) -> Iterator[Read | ErnError]:
    """``read_file`` of each, in order."""
    read = partial(read_file, rule=rule, use_types=use_types)
    workers = os.cpu_count() or 1
    if len(paths) < PARALLEL_FROM or workers < 2:
        yield from map(read, paths)
        return
    with ProcessPoolExecutor(workers) as pool:
        yield from pool.map(read, paths, chunksize=32)


def import_messages(
    paths: list[Path],
    client: httpx.Client,
    rule: PartyRule,
    *,
    batch: int,
    label: tuple[httpx.Client, UseTypes] | None,
    on_refused: Callable[[ErnError], object],
) -> ErnSummary:
    """Send every readable message's tracks (``batch`` tracks a request, never splitting a
    message); with ``label`` (its own client and the use-type mapping), record its deals'
    decisions too. Where two messages of the delivery hold the same track, the newer
    (``MessageCreatedDateTime``) wins whatever the files' order: an older one's record is
    skipped, a newer one's is sent after the older. A track the write API refuses stops
    the import (``ImportRefused``): nothing is dropped silently."""
    summary = ErnSummary()
    pending: dict[str, dict[str, Any]] = {}
    newest: dict[str, datetime] = {}
    last: dict[tuple[str, str], int] = {}

    def flush() -> None:
        if pending:
            result = send_tracks(client, list(pending.values()))
            if result.refused:
                first = result.refused[0]
                raise ImportRefused(
                    f"the write API refused {len(result.refused)} track(s), e.g. item "
                    f"{first.index} ({first.field}): {first.reason}"
                )
            summary.written += result.written
            summary.unchanged += result.unchanged
            for token in result.tokens:
                log, partition, offset = token.rsplit(":", 2)
                last[log, partition] = max(last.get((log, partition), -1), int(offset))
            pending.clear()

    for found in read_files(paths, rule, None if label is None else label[1]):
        if isinstance(found, ErnError):
            summary.refused += 1
            on_refused(found)
            continue
        summary.messages += 1
        summary.tracks += len(found.records)
        current = []
        for record in found.records:
            if newest.setdefault(record["isrc"], found.created) > found.created:
                summary.superseded += 1  # an older message than one already taken
                continue
            newest[record["isrc"]] = found.created
            current.append(record)
        if any(r["isrc"] in pending for r in current) or len(pending) + len(current) > batch:
            flush()  # the same track twice in one request is refused: the later goes next
        pending.update((r["isrc"], r) for r in current)
        if label is not None:
            summary.decisions += _decide(label[0], found)
    flush()
    summary.tokens = [f"{log}:{p}:{offset}" for (log, p), offset in sorted(last.items())]
    return summary


def _decide(client: httpx.Client, found: Read) -> int:
    decided = 0
    for decision in found.decisions:
        key = f"ern:{found.message_id}:{decision['purpose']}"
        response = client.post("/v1/decisions", json=decision, headers={"Idempotency-Key": key})
        if response.status_code != 202:
            raise ImportRefused(
                f"{found.message_id}: the label's decision was refused "
                f"({response.status_code}): {response.text}"
            )
        decided += 1
    return decided

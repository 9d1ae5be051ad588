"""A training pipeline's side of Consentry, as a downstream system would write it.

It holds a manifest -- the ISRCs of its training set, one per line -- and must never
train on a track whose owners opted out of ``ai.training``. It registers nothing itself:
an operator registers it (``PUT /v1/downstream-systems/<name>``) and gives it a
``system:<name>`` token.

1. **First start** (no cursor file): the manifest is filtered (``DataSets.filter``): the
   tracks not allowed now are dropped, and the filter's token becomes the cursor.
2. **Then, forever**: the change feed is followed from the cursor. A change to deny for
   a track in the manifest removes it (the file is replaced atomically) and is answered
   ``done``; for a track it does not hold, ``not_held``. A change to allow is answered
   ``done`` too and adds nothing back: a track re-enters the training set only through a
   new filter run -- the conservative choice.
3. After each batch (at a checkpoint, or every ``batch`` changes) the manifest is
   written, then the receipts are sent, then the cursor is saved: a crash in between
   repeats the batch (the manifest is unchanged by a repeat; receipts are idempotent).
"""

from __future__ import annotations

import asyncio
import logging
import os
from contextlib import aclosing
from pathlib import Path
from typing import Any

import httpx
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from consentry_domain import load_taxonomy
from consentry_sdk import ChangeFeed, Checkpoint, CheckSettings, FeedChange, FeedSettings
from consentry_sdk.checker import redis_for_checks
from consentry_sdk.datasets import DataSets
from consentry_state import StateReader

log = logging.getLogger(__name__)


class ExampleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENTRY_EXAMPLE_", extra="forbid")

    manifest: Path = Field(description="The training set: one ISRC per line.")
    cursor_file: Path = Field(description="Where the feed cursor is kept between runs.")
    purpose: str = Field(default="ai.training", description="The purpose it trains for.")
    write_url: str = Field(default="http://127.0.0.1:8701", description="The write API.")
    token: SecretStr = Field(description="Its system:<name> token (receipts).")
    batch: int = Field(default=500, ge=1, description="Most changes acted on per batch.")


def _replace(path: Path, isrcs: list[str]) -> None:
    """Write the manifest whole or not at all."""
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text("".join(f"{isrc}\n" for isrc in isrcs))
    os.replace(partial, path)


def _read(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


async def first_filter(settings: ExampleSettings) -> str:
    """Drop what is not allowed now; the cursor to follow the feed from."""
    check = CheckSettings()
    redis = redis_for_checks(check)
    try:
        sets = DataSets(
            StateReader(redis),
            load_taxonomy(check.purposes_file),
            feed=ChangeFeed(FeedSettings()),
        )
        kept: list[str] = []
        cursor = None
        async for page in sets.filter(_read(settings.manifest), settings.purpose):
            kept += page.isrcs
            cursor = page.cursor
    finally:
        await redis.aclose()
    if cursor is None:
        cursor = await ChangeFeed(FeedSettings()).end()
    await asyncio.to_thread(_replace, settings.manifest, kept)
    log.info("manifest filtered: %d tracks kept; following from %s", len(kept), cursor)
    return cursor.encode()


async def act(
    settings: ExampleSettings, http: httpx.AsyncClient, changes: list[FeedChange]
) -> None:
    """Drop the denied tracks, then send a receipt for every change."""
    held = _read(settings.manifest)
    present = set(held)
    denied = {c.event.isrc for c in changes if c.event.answer == "deny"}
    if denied & present:
        await asyncio.to_thread(_replace, settings.manifest, [i for i in held if i not in denied])
    receipts: list[dict[str, Any]] = [
        {
            "change": c.change,
            "status": "not_held"
            if c.event.answer == "deny" and c.event.isrc not in present
            else "done",
        }
        for c in changes
    ]
    response = await http.post("/v1/receipts", json={"receipts": receipts})
    response.raise_for_status()
    log.info("acted on %d changes (%d tracks dropped)", len(changes), len(denied & present))


async def run(settings: ExampleSettings) -> None:
    if settings.cursor_file.exists():
        cursor = settings.cursor_file.read_text().strip()
    else:
        cursor = await first_filter(settings)
        settings.cursor_file.write_text(cursor + "\n")
    headers = {"Authorization": f"Bearer {settings.token.get_secret_value()}"}
    feed = ChangeFeed(FeedSettings())
    async with httpx.AsyncClient(base_url=settings.write_url, headers=headers, timeout=30) as http:
        pending: list[FeedChange] = []
        async with aclosing(feed.follow([settings.purpose], cursor)) as items:
            async for item in items:
                if isinstance(item, FeedChange):
                    pending.append(item)
                if pending and (isinstance(item, Checkpoint) or len(pending) >= settings.batch):
                    await act(settings, http, pending)
                    pending = []
                if not pending:
                    await asyncio.to_thread(settings.cursor_file.write_text, f"{item.cursor}\n")

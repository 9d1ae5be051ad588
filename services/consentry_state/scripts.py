"""Lua scripts shipped with this package, and the one way to run them.

Each script is sent as: the table ``K`` of key names (from ``keys.LUA_NAMES``), then any
shared prelude, then the script itself. ``run`` calls it by SHA and loads it again when
Redis lost it (a restart, a ``SCRIPT FLUSH``), so callers never see ``NOSCRIPT``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from consentry_state.keys import LUA_NAMES


def _names_table() -> str:
    entries = ", ".join(f"{name} = '{value}'" for name, value in sorted(LUA_NAMES.items()))
    return f"local K = {{{entries}}}"


@dataclass(frozen=True)
class LuaScript:
    name: str
    source: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "sha", hashlib.sha1(self.source.encode(), usedforsecurity=False).hexdigest()
        )


def _load(name: str, *prelude: str) -> LuaScript:
    lua = resources.files("consentry_state").joinpath("lua")
    parts = [lua.joinpath(f"{part}.lua").read_text() for part in (*prelude, name)]
    return LuaScript(name, "\n".join([_names_table(), *parts]))


async def run(
    redis: Redis, script: LuaScript, *args: str | int | bytes, read_only: bool = False
) -> object:
    """Run ``script`` with ``args`` (no KEYS: this layout lives on one primary)."""
    call = redis.evalsha_ro if read_only else redis.evalsha
    try:
        return await call(script.sha, 0, *args)
    except NoScriptError:
        await redis.script_load(script.source)
        return await call(script.sha, 0, *args)


APPLY_BATCH = _load("apply_batch", "codec", "party")
NOTE_PARTY_EVENT = _load("note_party_event", "party")
BEGIN_WRITE = _load("begin_write")
FINISH_WRITE = _load("finish_write", "party")
UNLOCK = _load("unlock")
GATHER = _load("gather")
BEAT = _load("beat")
MARK_REBUILT = _load("mark_rebuilt")
RECEIPTS = _load("receipts")
TAKE = _load("take")

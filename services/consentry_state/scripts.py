"""Lua scripts shipped with this package, called by SHA and reloaded when Redis lost them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class LuaScript:
    name: str
    source: str

    @property
    def sha(self) -> str:
        return hashlib.sha1(self.source.encode()).hexdigest()


def _load(name: str, *prelude: str) -> LuaScript:
    lua = resources.files("consentry_state").joinpath("lua")
    parts = [lua.joinpath(f"{part}.lua").read_text() for part in (*prelude, name)]
    return LuaScript(name, "\n".join(parts))


APPLY_BATCH = _load("apply_batch", "party")
NOTE_PARTY_EVENT = _load("note_party_event", "party")
GATHER = _load("gather")
BEAT = _load("beat")
MARK_REBUILT = _load("mark_rebuilt")

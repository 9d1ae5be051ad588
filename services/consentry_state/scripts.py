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


def _load(name: str) -> LuaScript:
    source = resources.files("consentry_state").joinpath("lua", f"{name}.lua").read_text()
    return LuaScript(name, source)


APPLY_BATCH = _load("apply_batch")
GATHER = _load("gather")
BEAT = _load("beat")
MARK_REBUILT = _load("mark_rebuilt")

"""Typed dependencies on the parts of a service: its composition root puts one container
on ``app.state.services`` at start-up, and each route names the parts it uses
(``Parties = Annotated[PartyLog, part("parties")]``), never the whole container."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request


def part(name: str) -> Any:
    """A dependency on ``app.state.services.<name>``."""

    async def dependency(request: Request) -> Any:
        return getattr(request.app.state.services, name)

    dependency.__name__ = f"_{name}"
    return Depends(dependency)

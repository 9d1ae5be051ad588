"""Running an HTTP service in the foreground."""

from __future__ import annotations

from typing import Literal

import uvicorn
from fastapi import FastAPI

KEEP_ALIVE_S = 75
"""Idle keep-alive connections are kept longer than clients' and load balancers' usual
60 s, so a client never sends a request on a connection the server is closing."""


def serve(app: FastAPI, host: str, port: int, loop: Literal["auto", "asyncio"] = "auto") -> None:
    """Run an HTTP service in the foreground (one uvicorn worker).

    ``loop="auto"`` takes uvloop when installed; a service that talks to Kafka over TLS
    must take ``"asyncio"``: under uvloop, aiokafka's TLS connections hang now and then
    (a consumer read of a party's history hung in 14 of 30 tries, none under asyncio).
    """
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop=loop,
        log_level="warning",
        timeout_keep_alive=KEEP_ALIVE_S,
    )

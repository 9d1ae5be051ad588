"""``python -m consentry_checkapi``: serve checks on CONSENTRY_CHECK_HOST:PORT."""

from __future__ import annotations

import logging

import uvicorn

from consentry_checkapi.app import create_app
from consentry_checkapi.settings import CheckServiceSettings

KEEP_ALIVE_S = 75
"""Idle keep-alive connections are kept longer than clients' and load balancers' usual
60 s, so a client never sends a request on a connection the server is closing."""


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = CheckServiceSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        timeout_keep_alive=KEEP_ALIVE_S,
    )


if __name__ == "__main__":
    main()

"""``python -m consentry_checkapi``: serve checks on CONSENTRY_CHECK_HOST:PORT."""

from __future__ import annotations

import logging

import uvicorn

from consentry_checkapi.app import create_app
from consentry_checkapi.settings import CheckServiceSettings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = CheckServiceSettings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()

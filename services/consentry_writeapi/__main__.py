"""``python -m consentry_writeapi``: serve the write API on CONSENTRY_WRITE_HOST:PORT."""

from __future__ import annotations

import logging

from consentry_http import serve
from consentry_writeapi.app import create_app
from consentry_writeapi.settings import WriteSettings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = WriteSettings()
    # asyncio, not uvloop: its Kafka clients may speak TLS (see serve).
    serve(create_app(settings), settings.host, settings.port, loop="asyncio")


if __name__ == "__main__":
    main()

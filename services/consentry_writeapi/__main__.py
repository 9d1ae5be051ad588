"""``python -m consentry_writeapi``: serve the write API on CONSENTRY_WRITE_HOST:PORT."""

from __future__ import annotations

import logging

from consentry_http import serve_fast
from consentry_writeapi.settings import WriteSettings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = WriteSettings()
    # asyncio, not uvloop: its Kafka clients may speak TLS (see consentry_http.serve).
    serve_fast(
        "consentry_writeapi.app:from_environment", settings.host, settings.port, loop="asyncio"
    )


if __name__ == "__main__":
    main()

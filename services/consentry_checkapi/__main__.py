"""``python -m consentry_checkapi``: serve checks on CONSENTRY_CHECK_HOST:PORT."""

from __future__ import annotations

import logging

from consentry_checkapi.settings import CheckServiceSettings
from consentry_http import serve_fast


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = CheckServiceSettings()
    serve_fast(
        "consentry_checkapi.app:from_environment", settings.host, settings.port, settings.workers
    )


if __name__ == "__main__":
    main()

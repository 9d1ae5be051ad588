"""``python -m consentry_portal``: serve the portal on CONSENTRY_PORTAL_HOST:PORT."""

from __future__ import annotations

import logging

import uvicorn

from consentry_portal.settings import PortalSettings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per API call otherwise
    settings = PortalSettings()
    uvicorn.run(
        "consentry_portal.app:from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_level="warning",
    )


if __name__ == "__main__":
    main()

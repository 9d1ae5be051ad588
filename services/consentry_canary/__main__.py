"""``python -m consentry_canary``: measure end-to-end enforcement lag, forever."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import httpx
from prometheus_client import start_http_server

from consentry_canary.canary import Canary
from consentry_canary.settings import CanarySettings
from consentry_sdk import CheckSettings, connect


async def _main(settings: CanarySettings) -> None:
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    async with (
        httpx.AsyncClient(timeout=10) as http,
        connect(CheckSettings(redis_url=settings.redis_url)) as checker,
    ):
        with contextlib.suppress(asyncio.CancelledError):
            await Canary(settings, http, checker).run()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = CanarySettings()
    start_http_server(settings.metrics_port, addr=settings.metrics_host)
    asyncio.run(_main(settings))


if __name__ == "__main__":
    main()

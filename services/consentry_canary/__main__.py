"""``python -m consentry_canary``: measure end-to-end enforcement lag, forever."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

import click
import httpx
from prometheus_client import start_http_server

from consentry_canary.canary import Canary
from consentry_canary.settings import CanarySettings
from consentry_sdk import CheckSettings, connect


async def _main(settings: CanarySettings) -> None:
    task = asyncio.current_task()
    if task is None:
        raise RuntimeError("the canary runs in a task")
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    async with (
        httpx.AsyncClient(timeout=10) as http,
        connect(CheckSettings(redis_url=settings.redis_url)) as checker,
    ):
        with contextlib.suppress(asyncio.CancelledError):
            await Canary(settings, http, checker).run()


@click.command()
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Read settings (e.g. the tokens) from this file too; the environment wins.",
)
def main(env_file: Path | None) -> None:
    """Measure end-to-end enforcement lag, forever."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = CanarySettings(_env_file=env_file)
    start_http_server(settings.metrics_port, addr=settings.metrics_host)
    asyncio.run(_main(settings))


if __name__ == "__main__":
    main()

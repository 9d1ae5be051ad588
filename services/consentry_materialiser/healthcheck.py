"""``python -m consentry_materialiser.healthcheck``: exit 0 while the state is fresh.

For container healthchecks: reads the per-partition freshness the materialiser writes
to Redis and fails when it is missing or the least fresh is older than ``--bound`` s.
"""

from __future__ import annotations

import asyncio
import sys
import time

import click
from redis.asyncio import Redis
from redis.exceptions import RedisError

from consentry_materialiser.settings import MaterialiserSettings
from consentry_state import LogProgress


async def _freshness(redis_url: str) -> list[int]:
    client = Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        return await LogProgress(client).freshness()
    finally:
        await client.aclose()


@click.command()
@click.option("--bound", default=5.0, show_default=True, help="Oldest acceptable heartbeat, s.")
def main(bound: float) -> None:
    settings = MaterialiserSettings()
    try:
        values = asyncio.run(_freshness(settings.redis_url))
    except RedisError as exc:
        click.echo(f"unhealthy: Redis: {exc}", err=True)
        sys.exit(1)
    if not values:
        click.echo("unhealthy: no freshness recorded (state incomplete or rebuilding)", err=True)
        sys.exit(1)
    age = time.time() - min(values) / 1000
    if age > bound:
        click.echo(f"unhealthy: the least fresh partition is {age:.1f}s behind", err=True)
        sys.exit(1)
    click.echo(f"healthy: the least fresh partition is {age:.2f}s behind")


if __name__ == "__main__":
    main()

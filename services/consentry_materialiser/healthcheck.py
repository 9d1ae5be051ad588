"""``python -m consentry_materialiser.healthcheck``: exit 0 while the state is fresh.

For container healthchecks: reads the per-partition freshness the materialiser writes
to Redis and fails when it is missing or the least fresh is older than ``--bound`` s.
"""

from __future__ import annotations

import sys
import time

import click
import redis

from consentry_materialiser.settings import MaterialiserSettings
from consentry_state import keys


@click.command()
@click.option("--bound", default=5.0, show_default=True, help="Oldest acceptable heartbeat, s.")
def main(bound: float) -> None:
    settings = MaterialiserSettings()
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        values = client.hvals(keys.FRESHNESS)
    except redis.RedisError as exc:
        click.echo(f"unhealthy: Redis: {exc}", err=True)
        sys.exit(1)
    finally:
        client.close()
    if not values:
        click.echo("unhealthy: no freshness recorded (state incomplete or rebuilding)", err=True)
        sys.exit(1)
    age = time.time() - min(int(v) for v in values) / 1000
    if age > bound:
        click.echo(f"unhealthy: the least fresh partition is {age:.1f}s behind", err=True)
        sys.exit(1)
    click.echo(f"healthy: the least fresh partition is {age:.2f}s behind")


if __name__ == "__main__":
    main()

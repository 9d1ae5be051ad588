"""``python -m consentry_materialiser.healthcheck``: exit 0 while the heartbeat is fresh.

For container healthchecks: reads the heartbeat the materialiser writes to Redis and
fails when it is missing or older than ``--bound`` seconds.
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
        beat = client.get(keys.HEARTBEAT)
    except redis.RedisError as exc:
        click.echo(f"unhealthy: Redis: {exc}", err=True)
        sys.exit(1)
    finally:
        client.close()
    if beat is None:
        click.echo("unhealthy: no heartbeat yet", err=True)
        sys.exit(1)
    age = time.time() - int(beat) / 1000
    if age > bound:
        click.echo(f"unhealthy: heartbeat {age:.1f}s old", err=True)
        sys.exit(1)
    click.echo(f"healthy: heartbeat {age:.2f}s old")


if __name__ == "__main__":
    main()

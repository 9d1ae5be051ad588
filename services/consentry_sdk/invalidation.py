"""Keep the answer cache honest: listen to ``cs:inv`` and go deaf on any doubt."""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from consentry_sdk.cache import AnswerCache
from consentry_sdk.cancelling import cancelled
from consentry_state.keys import INVALIDATIONS

log = logging.getLogger(__name__)


async def listen(redis_url: str, cache: AnswerCache, *, ping_every_s: float = 0.5) -> None:
    """Run until cancelled, even when a read swallowed the cancellation
    (``consentry_sdk.cancelling``); reconnects, and the cache serves nothing while
    disconnected."""
    while not cancelled():
        client = Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=2)
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(INVALIDATIONS)
            idle = 0.0
            while not cancelled():
                message = await pubsub.get_message(timeout=0.1)
                if message is None:
                    idle += 0.1
                    if idle >= ping_every_s:
                        await pubsub.ping()  # a dead connection raises here
                        idle = 0.0
                    continue
                kind = message["type"]
                if kind == "subscribe":
                    cache.hearing()
                elif kind == "message":
                    data = message["data"]
                    for tag in (data.decode() if isinstance(data, bytes) else data).split():
                        cache.invalidate(tag)
        except (RedisError, OSError) as exc:
            if cache.live:
                log.warning("invalidation channel lost, cache off until it is back: %s", exc)
            cache.deaf()
        finally:
            cache.deaf()
            try:
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
                await client.aclose()
            except (RedisError, OSError):
                pass
        if not cancelled():
            await asyncio.sleep(0.2)
    raise asyncio.CancelledError

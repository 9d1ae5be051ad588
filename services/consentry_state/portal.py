"""The portal's state, in the enforcer's store: signed-in sessions and spent login links.

A login link can be used once: the first use records its id (``SET NX``) until the link
would have expired anyway. A session is a random id (the HttpOnly cookie's value) ->
the party, the bearer token the portal acts with, and the CSRF token its forms carry;
it expires on its own. Nothing else of the portal is kept anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from consentry_state import keys
from consentry_state.text import text as _text


@dataclass(frozen=True, slots=True)
class PortalSession:
    party: str
    token: str
    csrf: str


class PortalSessions:
    def __init__(self, store: Redis) -> None:
        self._store = store

    async def spend_link(self, link_id: str, ttl_s: int) -> bool:
        """True the first time a link is used; False ever after (until it expired)."""
        return bool(await self._store.set(keys.portal_link_key(link_id), "1", nx=True, ex=ttl_s))

    async def open(self, session_id: str, session: PortalSession, ttl_s: int) -> None:
        key = keys.portal_session_key(session_id)
        async with self._store.pipeline(transaction=True) as pipe:
            pipe.hset(
                key, mapping={"party": session.party, "token": session.token, "csrf": session.csrf}
            )
            pipe.expire(key, ttl_s)
            await pipe.execute()

    async def get(self, session_id: str) -> PortalSession | None:
        found = await self._store.hgetall(keys.portal_session_key(session_id))
        if not found:
            return None
        values = {_text(k): _text(v) for k, v in found.items()}
        return PortalSession(values["party"], values["token"], values["csrf"])

    async def close(self, session_id: str) -> None:
        await self._store.delete(keys.portal_session_key(session_id))

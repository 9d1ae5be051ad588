"""One canary cycle, and the loop that runs them."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import httpx
from pydantic import SecretStr

from consentry_canary import metrics
from consentry_canary.settings import CanarySettings
from consentry_sdk import ConsentChecker

log = logging.getLogger(__name__)


async def _until(probe: Callable[[], Awaitable[str]], wanted: str, started: float) -> float:
    while await probe() != wanted:
        await asyncio.sleep(0.002)
    return time.perf_counter() - started


def _bearer(token: SecretStr) -> dict[str, str]:
    return {"Authorization": f"Bearer {token.get_secret_value()}"}


class Canary:
    def __init__(
        self, settings: CanarySettings, http: httpx.AsyncClient, checker: ConsentChecker
    ) -> None:
        self._s = settings
        self._http = http
        self._checker = checker
        self._next = "deny"

    async def register(self) -> None:
        """Register the canary track (idempotent: the catalogue is an upsert)."""
        body = {"isrc": self._s.isrc, "upc": self._s.upc, "parties": [self._s.party]}
        while True:
            try:
                response = await self._http.post(
                    f"{self._s.write_url}/v1/tracks",
                    json=body,
                    headers=_bearer(self._s.catalogue_token),
                )
                if response.status_code == 202:
                    return
                log.warning("canary track refused: %s %s", response.status_code, response.text)
            except httpx.HTTPError as exc:
                log.warning("canary track not registered yet: %s", exc)
            await asyncio.sleep(1)

    async def _http_answer(self) -> str:
        response = await self._http.get(
            f"{self._s.check_url}/v1/check",
            params={"isrc": self._s.isrc, "purpose": self._s.purpose},
            headers=_bearer(self._s.check_token),
        )
        answer: str = response.json()["answer"]
        return answer

    async def _sdk_answer(self) -> str:
        return (await self._checker.check(self._s.isrc, self._s.purpose)).verdict.value

    async def cycle(self) -> bool:
        """Flip the choice and time both check paths; True when both saw it in time."""
        wanted = self._next
        metrics.CYCLES.inc()
        body = {
            "party": self._s.party,
            "purpose": self._s.purpose,
            "choice": wanted,
            "scope": "track",
            "isrc": self._s.isrc,
        }
        started = time.perf_counter()
        try:
            response = await self._http.post(
                f"{self._s.write_url}/v1/decisions",
                json=body,
                headers=_bearer(self._s.party_token),
            )
        except httpx.HTTPError as exc:
            log.warning("canary write failed: %s", exc)
            metrics.FAILURES.labels(path="write").inc()
            return False
        if response.status_code != 202:
            log.warning("canary write refused: %s %s", response.status_code, response.text)
            metrics.FAILURES.labels(path="write").inc()
            return False
        self._next = "allow" if wanted == "deny" else "deny"
        ok = True
        for path, probe in (("http", self._http_answer), ("sdk", self._sdk_answer)):
            try:
                lag = await asyncio.wait_for(_until(probe, wanted, started), self._s.timeout_s)
            except (TimeoutError, httpx.HTTPError) as exc:
                log.warning("canary %s path did not see %s in time: %r", path, wanted, exc)
                metrics.FAILURES.labels(path=path).inc()
                ok = False
                continue
            metrics.LAG_SECONDS.labels(path=path).observe(lag)
            metrics.LAST_LAG.labels(path=path).set(lag)
        if ok:
            metrics.LAST_SUCCESS.set(time.time())
        return ok

    async def run(self) -> None:
        await self.register()
        while True:
            started = time.monotonic()
            await self.cycle()
            await asyncio.sleep(max(0.0, self._s.interval_s - (time.monotonic() - started)))

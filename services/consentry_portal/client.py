"""The portal's view of Consentry: the write API as the signed-in party (its own token,
so every refusal is the API's own), the check service as the portal's service."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx


class Unreachable(Exception):
    """The API could not be reached or did not answer: nothing may be shown as saved.
    ``sent``: the request may have arrived (its answer was lost), so it may have been
    recorded; otherwise it never left."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def message(self) -> str:
        """The API's refusal, in its own words."""
        detail = self.body.get("detail") if isinstance(self.body, dict) else None
        if isinstance(detail, dict):
            text = str(detail.get("message", "refused"))
            errors = detail.get("errors") or []
            return " ".join([text, *(str(e.get("msg", "")) for e in errors)]).strip()
        return f"the request was refused ({self.status})"


class Apis:
    def __init__(
        self, write_url: str, check_url: str, check_token: str, timeout_s: float = 15.0
    ) -> None:
        self._write = httpx.AsyncClient(base_url=write_url, timeout=timeout_s)
        self._check = httpx.AsyncClient(
            base_url=check_url,
            timeout=timeout_s,
            headers={"Authorization": f"Bearer {check_token}"},
        )

    async def close(self) -> None:
        await self._write.aclose()
        await self._check.aclose()

    async def write(
        self, method: str, path: str, token: str, body: Any = None, params: Any = None
    ) -> Reply:
        response = await self._request(method, path, token, body, params)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.status_code >= 500 and not isinstance(payload, dict):
            raise Unreachable(f"the write API failed ({response.status_code})", sent=True)
        return Reply(response.status_code, payload)

    async def download(self, path: str, token: str, params: Any = None) -> httpx.Response:
        """The write API's answer as it came (a file to hand on), as the party."""
        response = await self._request("GET", path, token, None, params)
        if response.status_code >= 500:
            raise Unreachable(f"the write API failed ({response.status_code})", sent=True)
        return response

    async def _request(
        self, method: str, path: str, token: str, body: Any, params: Any
    ) -> httpx.Response:
        try:
            return await self._write.request(
                method,
                path,
                json=body,
                params=params,
                headers={"Authorization": f"Bearer {token}"},
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Unreachable(
                f"the write API could not be reached ({type(exc).__name__})", sent=False
            ) from exc
        except httpx.HTTPError as exc:
            raise Unreachable(
                f"the write API did not answer ({type(exc).__name__})", sent=True
            ) from exc

    async def answers(
        self, isrcs: list[str], purpose: str, token: str | None = None
    ) -> dict[str, Any]:
        """The check service's answers (one batch request per 1,000 tracks); with the
        write API's ``token``, from state that has applied that write."""
        found: dict[str, Any] = {}
        for start in range(0, len(isrcs), 1000):
            body: dict[str, Any] = {"purpose": purpose, "isrcs": isrcs[start : start + 1000]}
            if token is not None:
                body["token"] = token
            try:
                response = await self._check.post("/v1/check", json=body)
                response.raise_for_status()
            except httpx.HTTPError:
                continue  # shown as "could not be checked"
            found.update({a["isrc"]: a for a in response.json()["answers"]})
        return found

    async def enforced(self, decision_id: str, token: str, wait_s: float) -> bool:
        """Whether the write API's receipt for the decision shows checks enforcing it,
        asked until it does or ``wait_s`` has passed (the receipts tracker books it a
        moment after it is recorded)."""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                reply = await self.write("GET", f"/v1/decisions/{decision_id}/receipt", token)
            except Unreachable:
                return False
            if reply.ok and reply.body.get("checks_enforcing_by") is not None:
                return True
            await asyncio.sleep(0.02)
        return False

"""The usage reporter for threads (``consentry_sdk.usage`` says how reporting works):
``report`` from any thread, a sender thread of its own posting the batches."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import httpx

from consentry_sdk.usage import BufferedReporter

log = logging.getLogger(__name__)


class SyncUsageReporter(BufferedReporter):
    """The same for threads: a sender thread of its own (see the module)."""

    def __init__(self, check_url: str, token: str, **options: Any) -> None:
        super().__init__(check_url, token, **options)
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._sender = threading.Thread(target=self._send_forever, daemon=True)

    def _wake(self) -> None:
        self._wakeup.set()

    def __enter__(self) -> SyncUsageReporter:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def start(self) -> None:
        self._sender.start()

    def flush(self, timeout_s: float = 30.0) -> None:
        """Until every queued use is sent or refused (for up to ``timeout_s``)."""
        self._wake()
        deadline = time.monotonic() + timeout_s
        while self.unsent and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self, timeout_s: float = 30.0) -> None:
        """Send what is queued (for up to ``timeout_s``: the rest is left unsent and
        logged), then stop the sender."""
        if self._sender.is_alive():
            self.flush(timeout_s)
            if self.unsent:
                log.warning("%d uses left unsent at close", self.unsent)
            self._stopping.set()
            self._wake()
            self._sender.join()

    def _send_forever(self) -> None:
        with httpx.Client(timeout=self._timeout_s) as client:
            while not self._stopping.is_set():
                if len(self._pending) < self._batch:
                    self._wakeup.wait(self._interval_s)
                    self._wakeup.clear()
                while self._pending and not self._stopping.is_set():
                    self._post(client, self._take())
                    self._in_flight = 0

    def _post(self, client: httpx.Client, uses: list[dict[str, Any]]) -> None:
        attempt = 0
        while (
            pause := self._batches.next_try(uses, self._send(client, uses), attempt)
        ) is not None:
            if self._stopping.wait(pause):
                return
            attempt += 1

    def _send(self, client: httpx.Client, uses: list[dict[str, Any]]) -> httpx.Response | None:
        try:
            return client.post(
                self._batches.url, json={"uses": uses}, headers=self._batches.headers
            )
        except httpx.HTTPError as exc:
            return self._batches.unsent(exc)

"""Waiting for started processes: ready when an HTTP probe answers 200, failed as soon as
one of them exits or the deadline passes (with the logs' tails in the error)."""

from __future__ import annotations

import time
from collections.abc import Iterable

import httpx

from consentry_stack.processes import ManagedProcess, StackError


def fail_if_dead(processes: Iterable[ManagedProcess], deadline: float, what: str) -> None:
    """Raise if any process has exited, or ``what`` has not happened by ``deadline``."""
    processes = list(processes)
    for process in processes:
        if not process.alive():
            raise StackError(f"{process.name} exited:\n{process.tail()}")
    if time.monotonic() > deadline:
        logs = "\n".join(f"--- {p.name}\n{p.tail()}" for p in processes)
        raise StackError(f"{what}\n{logs}")


def await_ready(url: str, name: str, deadline: float, processes: Iterable[ManagedProcess]) -> None:
    """Poll ``url`` until it answers 200."""
    processes = list(processes)
    while True:
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        fail_if_dead(processes, deadline, f"{name} not ready at {url}")
        time.sleep(0.1)

"""Debian's redis-server on a free loopback port, no persistence (Redis is a cache)."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from consentry_stack.ports import free_port
from consentry_stack.processes import ManagedProcess, StackError


@dataclass
class RedisServer:
    data_dir: Path
    port: int = 0

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        self._process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def process(self) -> ManagedProcess:
        if self._process is None:
            raise StackError("Redis was not started")
        return self._process

    def start(self, timeout_s: float = 20.0) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise StackError(
                "redis-server is not installed; `make setup` installs Debian's package"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._process = ManagedProcess(
            "redis",
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.data_dir),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--protected-mode",
                "yes",
            ],
            self.data_dir / "redis.log",
        )
        self._process.start()
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                try:
                    if client.ping():
                        return
                except redis.exceptions.ConnectionError:
                    pass
                if time.monotonic() > deadline or not self._process.alive():
                    raise StackError(f"redis-server did not start:\n{self._process.tail()}")
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()

"""A TCP proxy the test controls, for network faults between two real processes.

It listens on a loopback port and forwards to a target port, from a thread with an
event loop of its own, so synchronous tests can drive it. ``set(mode)`` changes what
happens to every connection, open or new:

* ``PASS`` -- bytes flow both ways;
* ``DELAY`` -- each chunk waits ``delay_s`` before it is forwarded (order kept);
* ``BLACKHOLE`` -- connections stay open, every byte in either direction is dropped;
* ``DROP_RESPONSES`` -- requests reach the server, its answers are dropped;
* ``RESET`` -- open connections are reset (RST) and new ones reset on accept.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

from consentry_stack.kafka import KafkaBroker
from consentry_stack.ports import free_port
from consentry_stack.stack import Stack


class Mode(StrEnum):
    PASS = "pass"
    DELAY = "delay"
    BLACKHOLE = "blackhole"
    DROP_RESPONSES = "drop_responses"
    RESET = "reset"


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultProxy:
    def __init__(self, target_port: int, port: int = 0) -> None:
        self.target_port = target_port
        self.port = port or free_port()
        self.mode = Mode.PASS
        self.delay_s = 0.0
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    def start(self) -> FaultProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def set(self, mode: Mode, delay_s: float = 0.0) -> None:
        """Switch every connection, open or new, to ``mode``."""

        def switch() -> None:
            self.mode, self.delay_s = mode, delay_s
            if mode is Mode.RESET:
                for writer in list(self._open):
                    _reset(writer)
                self._open.clear()

        self._loop.call_soon_threadsafe(switch)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _close(self) -> None:
        for writer in list(self._open):
            _reset(writer)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if self.mode is Mode.RESET:
            _reset(client_w)
            return
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            _reset(client_w)
            return
        self.connections += 1
        self._open |= {client_w, server_w}
        try:
            await asyncio.gather(
                self._pipe(client_r, server_w, response=False),
                self._pipe(server_r, client_w, response=True),
            )
        finally:
            for writer in (client_w, server_w):
                self._open.discard(writer)
                writer.transport.abort()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, response: bool
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while chunk := await reader.read(65536):
                mode = self.mode
                if mode is Mode.BLACKHOLE or (mode is Mode.DROP_RESPONSES and response):
                    continue
                if mode is Mode.DELAY:
                    await asyncio.sleep(self.delay_s)
                if writer.transport.is_closing():
                    return
                writer.write(chunk)
                await writer.drain()
        writer.transport.abort()


@contextmanager
def proxied_stack(
    root: Path, env: dict[str, str]
) -> Iterator[tuple[Stack, FaultProxy, FaultProxy]]:
    """A running stack whose write API reaches Kafka, and whose materialiser reaches
    Redis, through proxies (yielded in that order); everything else connects directly."""
    kafka_via, redis_via = free_port(), free_port()
    stack = Stack(
        root,
        canary_interval_s=60,
        env_overrides=env,
        write_kafka_via=kafka_via,
        materialiser_redis_via=redis_via,
    )
    assert isinstance(stack.kafka, KafkaBroker)
    kafka = FaultProxy(stack.kafka.proxied_port, kafka_via).start()
    redis = FaultProxy(stack.redis.port, redis_via).start()
    try:
        with stack.running():
            yield stack, kafka, redis
    finally:
        kafka.stop()
        redis.stop()

"""Free loopback ports.

A port for a server is taken below the kernel's ephemeral range: a port the kernel hands
out with ``bind(0)`` is also one it hands to outgoing connections as their local port,
and between the check here and the server's own bind, a client connecting to Kafka took
one (the server then failed to start, once in a few hundred starts).
"""

from __future__ import annotations

import random
import socket
import time
from pathlib import Path

LOWEST = 10_000
_handed_out: set[int] = set()


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_port() -> int:
    """A loopback port nothing listens on, outside the ephemeral range, not handed out
    before by this process."""
    top = _ephemeral_start()
    if top - LOWEST > 1_000:
        for _ in range(200):
            port = random.randrange(LOWEST, top)
            if port not in _handed_out and port_is_free(port):
                _handed_out.add(port)
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        found: int = sock.getsockname()[1]
        return found


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_listening(port: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False

"""Debian's redis-server on a free loopback port, no persistence (Redis is a cache).

Least privilege: the passwordless default user is off, and each service logs in as a
user of its own with the rules of ``consentry_state.acl`` (derived from the key layout):
``ACL_RULES`` for the consent state, ``STORE_ACL_RULES`` for the enforcer's store, each
with a password made for this server.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from consentry_stack.ports import free_port
from consentry_stack.processes import ManagedProcess, StackError
from consentry_stack.tls import ServerTls
from consentry_state.acl import ACL_RULES
from consentry_state.layout import LISTPACK_SETTINGS


def acl_file(passwords: dict[str, str], roles: dict[str, str] = ACL_RULES) -> str:
    """Redis ACL file text: default user off, one user per role (hashed password)."""
    lines = ["user default off resetkeys resetchannels -@all"]
    for user, rules in roles.items():
        digest = hashlib.sha256(passwords[user].encode()).hexdigest()
        lines.append(f"user {user} on #{digest} {rules}")
    return "\n".join(lines) + "\n"


@dataclass
class RedisServer:
    data_dir: Path
    port: int = 0
    roles: dict[str, str] = field(default_factory=lambda: dict(ACL_RULES))
    passwords: dict[str, str] = field(default_factory=dict)
    replica_of: int = 0
    """A read replica of the primary at this loopback port (which may be a proxy's):
    it logs in as ``replica`` and serves reads; same users and passwords as the primary."""
    tls: ServerTls | None = None
    """Serve TLS only (no plain port); clients verify the certificate against the CA,
    whose file the URLs name (``rediss://…?ssl_ca_certs=…``); a replica replicates over
    TLS too."""

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        self.passwords = self.passwords or {u: secrets.token_urlsafe(18) for u in self.roles}
        self._process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        """The admin user's URL (operators and tests)."""
        return self.url_for("admin")

    def url_for(self, user: str) -> str:
        if self.tls is not None:
            return (
                f"rediss://{user}:{self.passwords[user]}@127.0.0.1:{self.port}/0"
                f"?ssl_ca_certs={self.tls.ca_file}"
            )
        return f"redis://{user}:{self.passwords[user]}@127.0.0.1:{self.port}/0"

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
        acl = self.data_dir / "users.acl"
        acl.write_text(acl_file(self.passwords, self.roles))
        acl.chmod(0o600)
        self._process = ManagedProcess(
            "redis",
            [
                binary,
                *self._listener(),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.data_dir),
                "--save",
                "",
                "--appendonly",
                "no",
                "--maxmemory-policy",
                "noeviction",  # a cache that silently dropped a deny would allow
                *LISTPACK_SETTINGS,
                "--daemonize",
                "no",
                "--protected-mode",
                "yes",
                "--aclfile",
                str(acl),
                *self._replication(),
            ],
            self.data_dir / "redis.log",
        )
        self._process.start()
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
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

    def _listener(self) -> list[str]:
        if self.tls is None:
            return ["--port", str(self.port)]
        return [
            "--port",
            "0",
            "--tls-port",
            str(self.port),
            "--tls-cert-file",
            str(self.tls.cert_file),
            "--tls-key-file",
            str(self.tls.key_file),
            "--tls-ca-cert-file",
            str(self.tls.ca_file),
            "--tls-auth-clients",
            "no",  # clients log in with their ACL user; the server proves itself
            *(["--tls-replication", "yes"] if self.replica_of else []),
        ]

    def _replication(self) -> list[str]:
        if not self.replica_of:
            return []
        return [
            "--replicaof",
            "127.0.0.1",
            str(self.replica_of),
            "--masteruser",
            "replica",
            "--masterauth",
            self.passwords["replica"],
            "--replica-read-only",
            "yes",
        ]

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()

"""The Kubernetes Redis's users, for real: the manifests' init script writes an ACL file
from the ConfigMap's rules and a Secret's passwords, and a real redis-server started with
it has exactly the users of the local launcher (same rules, same passwords), each able
to log in. So the cluster's Redis grants what the tests here run against, no more."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import yaml

from consentry_stack.ports import free_port
from consentry_stack.processes import ManagedProcess
from consentry_stack.redis_server import RedisServer
from consentry_state.acl import ACL_RULES, STORE_ACL_RULES
from tests.support.entry_points import ROOT
from tests.support.eventually import eventually

ACL_CONFIG = ROOT / "deploy" / "kubernetes" / "base" / "redis" / "acl.yaml"


def acl_list(url: str) -> dict[str, frozenset[str]]:
    """Each user's rules as Redis holds them (password hash included); as a set, since
    Redis lists single-command rules in no fixed order."""
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        lines = [str(line).split() for line in client.acl_list()]
        return {words[1]: frozenset(words[2:]) for words in lines}
    finally:
        client.close()


@pytest.fixture
def launched(tmp_path: Path) -> Iterator[tuple[Path, dict[str, RedisServer]]]:
    servers = {
        "state": RedisServer(tmp_path / "state"),
        "store": RedisServer(tmp_path / "store", roles=dict(STORE_ACL_RULES)),
    }
    for server in servers.values():
        server.start()
    try:
        yield tmp_path, servers
    finally:
        for server in servers.values():
            server.stop()


@pytest.mark.parametrize(("rules", "roles"), [("state", ACL_RULES), ("store", STORE_ACL_RULES)])
def test_the_init_scripts_acl_file_gives_the_launchers_users(
    launched: tuple[Path, dict[str, RedisServer]], rules: str, roles: dict[str, str]
) -> None:
    root, servers = launched
    reference = servers[rules]
    data = yaml.safe_load(ACL_CONFIG.read_text())["data"]
    scripts, passwords = root / f"scripts-{rules}", root / f"passwords-{rules}"
    scripts.mkdir()
    passwords.mkdir()
    for name, text in data.items():
        (scripts / name).write_text(text)
    for user in roles:
        (passwords / user).write_text(reference.passwords[user])
    acl = root / f"{rules}.acl"
    subprocess.run(
        [
            "sh",
            str(scripts / "write-aclfile.sh"),
            str(scripts / f"{rules}.rules"),
            str(acl),
            str(passwords),
        ],
        check=True,
        timeout=10,
    )
    port = free_port()
    binary = shutil.which("redis-server")
    assert binary is not None
    server = ManagedProcess(
        f"redis-{rules}",
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--aclfile",
            str(acl),
        ],
        root / f"redis-{rules}.log",
    )
    server.start()
    try:
        admin = f"redis://admin:{reference.passwords['admin']}@127.0.0.1:{port}/0"

        def up() -> bool:
            try:
                return bool(redis.Redis.from_url(admin).ping())
            except redis.exceptions.ConnectionError:
                return False

        eventually(up, 10, "redis-server with the manifests' ACL file")
        assert acl_list(admin) == acl_list(reference.url)
        for user in roles:
            client = redis.Redis.from_url(
                f"redis://{user}:{reference.passwords[user]}@127.0.0.1:{port}/0"
            )
            try:
                assert client.ping(), user  # logged in with the Secret's password
            finally:
                client.close()
        with pytest.raises(redis.exceptions.AuthenticationError):
            redis.Redis(port=port, password=secrets.token_hex(8)).ping()
    finally:
        server.stop()

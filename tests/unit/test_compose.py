"""docker-compose.yml agrees with the code (no Docker engine here, so it is checked, not run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from consentry_stack.kafka_runtime import KAFKA_VERSION
from consentry_state.acl import ACL_RULES, STORE_ACL_RULES
from consentry_state.layout import LISTPACK_SETTINGS
from tests.support.entry_points import SETTINGS, entry_point_exists

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
OURS = {name: s for name, s in SERVICES.items() if s.get("image") == "consentry:local"}


def test_our_services_are_the_expected_ones() -> None:
    assert set(OURS) == {
        "keys",
        "topics",
        "writeapi",
        "materialiser",
        "enforcer",
        "receipts",
        "meter",
        "checkapi",
        "portal",
        "canary",
    }
    assert SERVICES["kafka"]["image"] == f"apache/kafka:{KAFKA_VERSION}"


@pytest.mark.parametrize("name", sorted(OURS))
def test_every_command_is_a_real_entry_point(name: str) -> None:
    assert entry_point_exists(OURS[name]["command"]), OURS[name]["command"]


@pytest.mark.parametrize("name", sorted(OURS))
def test_every_environment_variable_is_a_real_setting(name: str) -> None:
    for variable in OURS[name].get("environment", {}):
        prefix = next((p for p in SETTINGS if variable.startswith(p)), None)
        assert prefix is not None, f"{name}: {variable} belongs to no settings class"
        field = variable.removeprefix(prefix).lower()
        assert field in SETTINGS[prefix].model_fields, f"{name}: {variable} is not a setting"


@pytest.mark.parametrize("name", sorted(OURS))
def test_published_ports_match_the_configured_port(name: str) -> None:
    env = OURS[name].get("environment", {})
    for mapping in OURS[name].get("ports", []):
        _, container = mapping.split(":")
        assert container in {v for k, v in env.items() if k.endswith("_PORT")}, (name, mapping)


ONE_SHOT = {"topics", "keys"}


@pytest.mark.parametrize("name", sorted(set(SERVICES) - ONE_SHOT))
def test_every_long_running_service_has_a_healthcheck(name: str) -> None:
    test = SERVICES[name]["healthcheck"]["test"]
    assert test[0] in {"CMD", "CMD-SHELL"}
    if test[:3] == ["CMD", "python", "-m"]:
        assert entry_point_exists(test[1:])


def test_dependencies_wait_for_health() -> None:
    for name, service in SERVICES.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in SERVICES, (name, dependency)
            expected = (
                "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            )
            assert rule["condition"] == expected, (name, dependency)


def test_prometheus_and_grafana_are_provisioned_from_deploy() -> None:
    mounts = {
        v.split(":")[0]
        for v in [*SERVICES["prometheus"]["volumes"], *SERVICES["grafana"]["volumes"]]
    }
    for mount in mounts:
        assert (ROOT / mount).exists(), mount
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.compose.yml").read_text())
    scraped = {
        t for job in config["scrape_configs"] for c in job["static_configs"] for t in c["targets"]
    }
    published = {
        f"{name}:{env[k]}"
        for name, s in OURS.items()
        for env in [s.get("environment", {})]
        for k in env
        if k.endswith("_PORT")
    }
    assert scraped <= published, scraped - published


def _redis_users(command: list[str]) -> dict[str, list[str]]:
    users: dict[str, list[str]] = {}
    current: list[str] | None = None
    for arg in command:
        if arg.startswith("--"):
            current = [] if arg == "--user" else None
            if current is not None:
                users[f"#{len(users)}"] = current
        elif current is not None:
            current.append(arg)
    return {rules[0]: rules[1:] for rules in users.values()}


@pytest.mark.parametrize(
    ("server", "roles"),
    [("redis", ACL_RULES), ("redis-replica", ACL_RULES), ("enforcer-redis", STORE_ACL_RULES)],
)
def test_redis_runs_with_the_launchers_acl_users_and_no_default_user(
    server: str, roles: dict[str, str]
) -> None:
    users = _redis_users(SERVICES[server]["command"])
    assert users.pop("default") == ["off"]
    assert set(users) == set(roles)
    for user, rules in users.items():
        assert rules[0] == "on"
        assert rules[1].startswith(">${"), "passwords come from the environment"
        assert rules[2:] == roles[user].split(), user


def test_services_log_in_to_redis_as_their_own_users() -> None:
    urls = {
        name: value
        for name, service in OURS.items()
        for key, value in service.get("environment", {}).items()
        if key.endswith("_REDIS_URL")
    }
    assert urls["writeapi"].startswith("redis://writeapi:")
    assert urls["materialiser"].startswith("redis://materialiser:")
    assert urls["enforcer"].startswith("redis://enforcer:")
    assert urls["receipts"].startswith("redis://enforcer:")
    assert urls["checkapi"].startswith("redis://checker:")
    assert urls["canary"].startswith("redis://checker:")
    for reader in ("checkapi", "canary"):  # the check side reads a replica
        assert "@redis-replica:" in urls[reader]
    replica = SERVICES["redis-replica"]["command"]
    assert replica[replica.index("--replicaof") + 1] == "redis"
    assert replica[replica.index("--masteruser") + 1] == "replica"


def test_redis_never_evicts_and_kafka_never_elects_an_unclean_leader() -> None:
    """A Redis that evicted a deny would answer allow; the guarantees rest on these."""
    command = SERVICES["redis"]["command"]
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    for option, value in zip(LISTPACK_SETTINGS[::2], LISTPACK_SETTINGS[1::2], strict=True):
        assert command[command.index(option) + 1] == value, "the layout's buckets are sized so"
    kafka = SERVICES["kafka"]["environment"]
    assert kafka["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false"

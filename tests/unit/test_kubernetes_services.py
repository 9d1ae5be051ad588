"""deploy/kubernetes's services agree with the code, as docker-compose's do: every
command a real entry point of the image, every variable a real setting that loads, ports
and probes, non-root pods with limits and budgets, each service's own Redis user, the
alert rules equal to deploy/prometheus/rules, and every service with metrics scraped.
"""

from __future__ import annotations

import re

import pytest
import yaml
from pydantic import SecretStr

from consentry_state.acl import ACL_RULES, STORE_ACL_RULES
from consentry_state.layout import LISTPACK_SETTINGS
from tests.support.entry_points import ROOT, entry_point_exists
from tests.support.kubernetes import (
    HTTP,
    IMAGE,
    OURS,
    OVERLAYS,
    containers,
    environment,
    of_kind,
    settings_of,
)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_consentry_deployment_runs_a_real_entry_point_of_the_image(overlay: str) -> None:
    deployments = of_kind(overlay, "Deployment")
    assert set(OURS) <= set(deployments)
    for name, module in OURS.items():
        (container,) = deployments[name]["spec"]["template"]["spec"]["containers"]
        assert container["image"] == IMAGE, "the overlay sets the image"
        assert container["command"][:3] == ["python", "-m", module]
        assert entry_point_exists(container["command"]), container["command"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_variable_is_a_real_setting_and_the_settings_load(overlay: str) -> None:
    for name in OURS:
        (container,) = of_kind(overlay, "Deployment")[name]["spec"]["template"]["spec"][
            "containers"
        ]
        env = environment(overlay, container)
        interpolated = {m for v in env.values() if v for m in re.findall(r"\$\((\w+)\)", v)}
        for variable in env:
            if not variable.startswith("CONSENTRY_"):
                assert variable in interpolated, f"{name}: {variable} is used by no setting"
        cls, fields = settings_of(env)
        for field in fields:
            assert field in cls.model_fields, f"{name}: {field} is not a {cls.__name__} field"
        missing = {
            f for f, info in cls.model_fields.items() if info.is_required() and f not in fields
        }
        assert not missing, f"{name}: required settings not given: {missing}"
        loaded = cls(**fields)  # types, enums and ranges as the service itself would
        for field, value in fields.items():
            given = getattr(loaded, field)
            shown = given.get_secret_value() if isinstance(given, SecretStr) else str(given)
            assert shown.lower() == value.lower(), (name, field)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ports_probes_and_services_match_the_configured_ports(overlay: str) -> None:
    deployments = of_kind(overlay, "Deployment")
    services = of_kind(overlay, "Service")
    for name in OURS:
        pod = deployments[name]["spec"]["template"]
        (container,) = pod["spec"]["containers"]
        env = environment(overlay, container)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        key = "http" if name in HTTP else "metrics"
        setting = next(k for k in env if k.endswith("_PORT"))
        assert setting.endswith("METRICS_PORT") == (key == "metrics"), (name, setting)
        assert str(ports[key]) == env[setting], name
        host = next(v for k, v in env.items() if k.endswith("_HOST"))
        assert host == "0.0.0.0", f"{name} listens beyond loopback"
        for probe in ("livenessProbe", "readinessProbe"):
            http = container[probe].get("httpGet")
            if http is not None:
                assert http["port"] in ports, (name, probe)
        if name in HTTP:
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            (port,) = services[name]["spec"]["ports"]
            assert port["targetPort"] == "http"
            assert services[name]["spec"]["selector"].items() <= pod["metadata"]["labels"].items()


def test_the_probe_paths_are_routes_of_the_http_services() -> None:
    sources = {
        "consentry-writeapi": "consentry_writeapi/app.py",
        "consentry-checkapi": "consentry_checkapi/app.py",
        "consentry-portal": "consentry_portal/app.py",
    }
    for name, path in sources.items():
        source = (ROOT / "services" / path).read_text()
        for route in ("/healthz", "/readyz"):
            assert re.search(rf'@app\.get\(\s*"{route}"', source), (name, route)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_non_root_with_limits_and_a_budget(overlay: str) -> None:
    budgets = of_kind(overlay, "PodDisruptionBudget")
    autoscaled = {
        *(o["spec"]["scaleTargetRef"]["name"] for o in of_kind(overlay, "ScaledObject").values()),
        *(
            h["spec"]["scaleTargetRef"]["name"]
            for h in of_kind(overlay, "HorizontalPodAutoscaler").values()
        ),
    }
    covered = {
        b["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for b in budgets.values()
    }
    for name, deployment in of_kind(overlay, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] > 0, name
        for container in containers(deployment):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            resources = container["resources"]
            assert resources["requests"]["cpu"], name
            assert resources["requests"]["memory"], name
            assert resources["limits"]["memory"], name
        if deployment["spec"]["replicas"] > 1 or name in autoscaled or name in OURS:
            assert name in covered, f"{name} has no PodDisruptionBudget"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_redis_runs_the_launchers_acl_users_and_never_evicts(overlay: str) -> None:
    (acl,) = (c for n, c in of_kind(overlay, "ConfigMap").items() if n == "consentry-redis-acl")
    for key, roles in (("state.rules", ACL_RULES), ("store.rules", STORE_ACL_RULES)):
        lines = dict(line.split(" ", 1) for line in acl["data"][key].splitlines() if line)
        assert lines == roles, key
    deployments = of_kind(overlay, "Deployment")
    for name in ("consentry-redis-state", "consentry-redis-replica", "consentry-redis-store"):
        (redis,) = deployments[name]["spec"]["template"]["spec"]["containers"]
        args = redis["args"]
        assert args[args.index("--maxmemory-policy") + 1] == "noeviction", name
        assert args[args.index("--aclfile") + 1] == "/acl/users.acl", name
        (init,) = deployments[name]["spec"]["template"]["spec"]["initContainers"]
        rules = "store.rules" if name.endswith("store") else "state.rules"
        assert init["command"][-2:] == [f"/scripts/{rules}", "/acl/users.acl"], name
    state = deployments["consentry-redis-state"]["spec"]["template"]["spec"]["containers"][0][
        "args"
    ]
    for option, value in zip(LISTPACK_SETTINGS[::2], LISTPACK_SETTINGS[1::2], strict=True):
        assert state[state.index(option) + 1] == value, "the layout's buckets are sized so"
    replica = deployments["consentry-redis-replica"]["spec"]["template"]["spec"]["containers"][0][
        "args"
    ]
    assert replica[replica.index("--replicaof") + 1] == "consentry-redis-state"
    assert replica[replica.index("--masteruser") + 1] == "replica"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_log_in_to_redis_as_their_own_users(overlay: str) -> None:
    expected = {
        "consentry-writeapi": {
            "REDIS_URL": "writeapi@consentry-redis-state",
            "STORE_URL": "writeapi@consentry-redis-store",
            "LIMITS_URL": "limiter@consentry-redis-store",
        },
        "consentry-materialiser": {"REDIS_URL": "materialiser@consentry-redis-state"},
        "consentry-enforcer": {
            "REDIS_URL": "enforcer@consentry-redis-state",
            "STORE_URL": "enforcer@consentry-redis-store",
        },
        "consentry-receipts": {
            "REDIS_URL": "enforcer@consentry-redis-replica",
            "STORE_URL": "receipts@consentry-redis-store",
        },
        "consentry-checkapi": {
            "REDIS_URL": "checker@consentry-redis-replica",
            "LIMITS_URL": "limiter@consentry-redis-store",
        },
        "consentry-canary": {"REDIS_URL": "checker@consentry-redis-replica"},
        "consentry-portal": {
            "STORE_URL": "portal@consentry-redis-store",
            "LIMITS_URL": "limiter@consentry-redis-store",
        },
    }
    deployments = of_kind(overlay, "Deployment")
    for name, urls in expected.items():
        (container,) = deployments[name]["spec"]["template"]["spec"]["containers"]
        env = environment(overlay, container)
        secrets = {
            v["name"]: v["valueFrom"]["secretKeyRef"] for v in container["env"] if "valueFrom" in v
        }
        for suffix, login in urls.items():
            url = next(v for k, v in env.items() if k.endswith(suffix))
            assert url is not None
            match = re.fullmatch(r"redis://(\w+):\$\((\w+)\)@([\w-]+):6379/0", url)
            assert match, (name, url)
            user, password, host = match.groups()
            assert f"{user}@{host}" == login, name
            users = (
                "consentry-redis-store-users"
                if host.endswith("store")
                else "consentry-redis-state-users"
            )
            assert secrets[password] == {"name": users, "key": user}, (name, suffix)


def test_the_alert_rules_are_deploy_prometheus_rules() -> None:
    rules = yaml.safe_load((ROOT / "deploy/prometheus/rules/consentry.yml").read_text())
    for overlay in OVERLAYS:
        (rule,) = of_kind(overlay, "PrometheusRule").values()
        assert rule["spec"] == rules, "copy the groups of deploy/prometheus/rules/consentry.yml"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_prometheus_scrapes_every_service_that_has_metrics(overlay: str) -> None:
    monitored: set[str] = set()
    for monitor in of_kind(overlay, "ServiceMonitor").values():
        (expression,) = monitor["spec"]["selector"]["matchExpressions"]
        monitored |= set(expression["values"])
        assert {e["port"] for e in monitor["spec"]["endpoints"]} == {"http"}
    for monitor in of_kind(overlay, "PodMonitor").values():
        (expression,) = monitor["spec"]["selector"]["matchExpressions"]
        monitored |= set(expression["values"])
        assert {e["port"] for e in monitor["spec"]["podMetricsEndpoints"]} == {"metrics"}
    assert monitored == set(OURS) - {"consentry-portal"}

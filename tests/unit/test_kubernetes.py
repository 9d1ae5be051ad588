"""deploy/kubernetes agrees with Kubernetes and with the code (offline: no cluster here).

Each overlay is rendered by kustomize (built by the set-up), its core resources are
validated against the Kubernetes schemas (kubernetes-validate), and the Strimzi, KEDA
and Prometheus Operator resources are checked for the fields the code relies on. Then
the consistency checks, as for docker-compose: commands, settings, ports, probes,
topics, ACLs and alert rules.
"""

from __future__ import annotations

import functools
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from kubernetes_validate import validate
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from consentry_canary.settings import CanarySettings
from consentry_checkapi.settings import CheckServiceSettings
from consentry_enforcer.settings import GROUP as ENFORCER_GROUP
from consentry_enforcer.settings import EnforcerSettings
from consentry_events import CATALOGUE, CONSENT_CHANGES, TOPICS
from consentry_materialiser.settings import MaterialiserSettings
from consentry_portal.settings import PortalSettings
from consentry_receipts.settings import ReceiptsSettings
from consentry_stack.kafka_runtime import KAFKA_VERSION
from consentry_state.acl import ACL_RULES, STORE_ACL_RULES
from consentry_state.layout import LISTPACK_SETTINGS
from consentry_writeapi.settings import WriteSettings
from tests.support.entry_points import ROOT, entry_point_exists
from tests.support.kafka_guide import Grant, documented_grants

KUBERNETES = ROOT / "deploy" / "kubernetes"
KUSTOMIZE = ROOT / ".tools" / "bin" / "kustomize"
OVERLAYS = ("small", "large")
KUBERNETES_VERSION = "1.33"
CORE = {"v1", "apps/v1", "policy/v1", "autoscaling/v2"}
SETTINGS: dict[str, type[BaseSettings]] = {
    "CONSENTRY_WRITE_": WriteSettings,
    "CONSENTRY_MATERIALISER_": MaterialiserSettings,
    "CONSENTRY_ENFORCER_": EnforcerSettings,
    "CONSENTRY_RECEIPTS_": ReceiptsSettings,
    "CONSENTRY_CHECK_": CheckServiceSettings,
    "CONSENTRY_CANARY_": CanarySettings,
    "CONSENTRY_PORTAL_": PortalSettings,
}
OURS = {
    "consentry-writeapi": "consentry_writeapi",
    "consentry-checkapi": "consentry_checkapi",
    "consentry-portal": "consentry_portal",
    "consentry-materialiser": "consentry_materialiser",
    "consentry-enforcer": "consentry_enforcer",
    "consentry-receipts": "consentry_receipts",
    "consentry-canary": "consentry_canary",
}
HTTP = {"consentry-writeapi", "consentry-checkapi", "consentry-portal"}
IMAGE = "registry.example.com/consentry:0.1.0"


@functools.cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    built = subprocess.run(
        [str(KUSTOMIZE), "build", str(KUBERNETES / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert built.returncode == 0, built.stderr
    return tuple(d for d in yaml.safe_load_all(built.stdout) if d)


def of_kind(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in rendered(overlay) if d["kind"] == kind}


def containers(deployment: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = deployment["spec"]["template"]["spec"]
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def environment(overlay: str, container: dict[str, Any]) -> dict[str, str | None]:
    """The container's variables: its ConfigMaps' data, then its own ``env`` (a
    Secret's value as None)."""
    config_maps = of_kind(overlay, "ConfigMap")
    found: dict[str, str | None] = {}
    for source in container.get("envFrom", []):
        found.update(config_maps[source["configMapRef"]["name"]]["data"])
    for variable in container.get("env", []):
        found[variable["name"]] = variable.get("value")
    return found


def settings_of(env: dict[str, str | None]) -> tuple[type[BaseSettings], dict[str, Any]]:
    """The settings class these ``CONSENTRY_*`` variables are for, and their fields (a
    Secret's or an interpolated value as a placeholder of the right shape)."""
    prefixes = {p for p in SETTINGS for name in env if name.startswith(p)}
    assert len(prefixes) == 1, f"one service's settings per container: {prefixes}"
    prefix = prefixes.pop()
    fields: dict[str, Any] = {}
    for name, value in env.items():
        if name.startswith(prefix):
            text = "secret" if value is None else re.sub(r"\$\((\w+)\)", "secret", value)
            fields[name.removeprefix(prefix).lower()] = text
    return SETTINGS[prefix], fields


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_renders_and_its_core_resources_are_valid_kubernetes(overlay: str) -> None:
    documents = rendered(overlay)
    kinds = {d["kind"] for d in documents}
    assert {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"} <= kinds
    assert {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"} <= kinds
    assert {"ScaledObject", "TriggerAuthentication", "ServiceMonitor", "PodMonitor"} <= kinds
    assert "PrometheusRule" in kinds
    for document in documents:
        if document["apiVersion"] in CORE:
            validate(document, KUBERNETES_VERSION, strict=True)
        assert document["kind"] == "Namespace" or document["metadata"]["namespace"] == "consentry"


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
        if deployment["spec"]["replicas"] > 1 or name in autoscaled:
            assert name in covered, f"{name} has no PodDisruptionBudget"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_kafka_cluster_keeps_the_guarantees(overlay: str) -> None:
    (kafka,) = of_kind(overlay, "Kafka").values()
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    assert kafka["metadata"]["annotations"]["strimzi.io/node-pools"] == "enabled"
    spec = kafka["spec"]["kafka"]
    assert spec["version"] == KAFKA_VERSION
    assert spec["config"]["default.replication.factor"] == 3
    assert spec["config"]["min.insync.replicas"] == 2
    assert spec["config"]["unclean.leader.election.enable"] is False
    assert spec["config"]["auto.create.topics.enable"] is False
    assert spec["authorization"]["type"] == "simple"
    (listener,) = spec["listeners"]
    assert listener["tls"] is True
    assert listener["authentication"]["type"] == "scram-sha-512"
    assert {"topicOperator", "userOperator"} <= set(kafka["spec"]["entityOperator"])
    pools = of_kind(overlay, "KafkaNodePool")
    assert sum(p["spec"]["replicas"] for p in pools.values() if "broker" in p["spec"]["roles"]) >= 3
    assert (
        sum(p["spec"]["replicas"] for p in pools.values() if "controller" in p["spec"]["roles"])
        == 3
    )
    for resource in [
        *pools.values(),
        *of_kind(overlay, "KafkaTopic").values(),
        *of_kind(overlay, "KafkaUser").values(),
    ]:
        assert resource["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    bootstrap = f"{kafka['metadata']['name']}-kafka-bootstrap:{listener['port']}"
    for name in (
        "consentry-writeapi",
        "consentry-materialiser",
        "consentry-enforcer",
        "consentry-receipts",
    ):
        (container,) = of_kind(overlay, "Deployment")[name]["spec"]["template"]["spec"][
            "containers"
        ]
        env = environment(overlay, container)
        assert next(v for k, v in env.items() if k.endswith("_KAFKA_BOOTSTRAP")) == bootstrap
        assert next(v for k, v in env.items() if k.endswith("_KAFKA_USERNAME")) == name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_topic_the_code_uses_exists_as_the_code_expects(overlay: str) -> None:
    topics = {t["spec"]["topicName"]: t["spec"] for t in of_kind(overlay, "KafkaTopic").values()}
    assert set(topics) == {t.name for t in TOPICS}
    for expected in TOPICS:
        spec = topics[expected.name]
        assert {k: str(v) for k, v in spec["config"].items()} == expected.configs, expected.name
        assert spec["replicas"] == 3
        if overlay == "small":
            assert spec["partitions"] == expected.partitions, expected.name
        else:
            assert spec["partitions"] >= expected.partitions, expected.name
    consumed = {t for t in (CONSENT_CHANGES.name, CATALOGUE.name)}
    assert len({topics[t]["partitions"] for t in consumed}) == 1, (
        "the workers' topics co-partitioned"
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_kafka_users_have_exactly_the_guides_acls(overlay: str) -> None:
    granted: set[Grant] = set()
    for name, user in of_kind(overlay, "KafkaUser").items():
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        assert user["spec"]["authorization"]["type"] == "simple"
        for acl in user["spec"]["authorization"]["acls"]:
            resource = acl["resource"]
            kind = resource["type"]
            target = (
                ("cluster", "kafka-cluster", "literal")
                if kind == "cluster"
                else (kind, resource["name"], resource.get("patternType", "literal"))
            )
            granted |= {(name, *target, op) for op in acl["operations"]}
    assert granted == documented_grants()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_workers_scale_on_their_lag_up_to_the_partitions(overlay: str) -> None:
    topics = {t["spec"]["topicName"]: t["spec"] for t in of_kind(overlay, "KafkaTopic").values()}
    partitions = topics[CONSENT_CHANGES.name]["partitions"]
    groups = {
        "consentry-materialiser": MaterialiserSettings.model_fields["group_id"].default,
        "consentry-enforcer": ENFORCER_GROUP,
    }
    scaled = of_kind(overlay, "ScaledObject")
    assert set(scaled) == set(groups)
    authentications = of_kind(overlay, "TriggerAuthentication")
    for name, group in groups.items():
        spec = scaled[name]["spec"]
        assert spec["scaleTargetRef"]["name"] == name
        assert name in of_kind(overlay, "Deployment")
        assert spec["minReplicaCount"] >= 1, "never to zero: an opt-out must not wait"
        assert spec["maxReplicaCount"] == partitions, "one useful worker per partition"
        (trigger,) = spec["triggers"]
        assert trigger["type"] == "kafka"
        assert trigger["metadata"]["consumerGroup"] == group
        assert trigger["metadata"]["allowIdleConsumers"] == "false"
        assert trigger["authenticationRef"]["name"] in authentications
    (authentication,) = authentications.values()
    references = {r["parameter"]: r for r in authentication["spec"]["secretTargetRef"]}
    assert references["password"]["name"] == "consentry-autoscaler", "Strimzi's Secret"
    assert (
        "consentry-autoscaler",
        "group",
        groups["consentry-materialiser"],
        "literal",
        "Describe",
    ) in documented_grants()
    secrets = of_kind(overlay, "Secret")
    login = secrets[references["username"]["name"]]
    assert login["metadata"]["name"] == "consentry-autoscaler-kafka"
    hpa = of_kind(overlay, "HorizontalPodAutoscaler")["consentry-checkapi"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == "consentry-checkapi"
    assert hpa["metrics"][0]["resource"]["name"] == "cpu"
    assert hpa["minReplicas"] >= 2


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
        "consentry-checkapi": {"REDIS_URL": "checker@consentry-redis-replica"},
        "consentry-canary": {"REDIS_URL": "checker@consentry-redis-replica"},
        "consentry-portal": {"STORE_URL": "portal@consentry-redis-store"},
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

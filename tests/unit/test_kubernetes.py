"""deploy/kubernetes agrees with Kubernetes and with Kafka as the code uses it (offline:
no cluster here).

Each overlay is rendered by kustomize (built by the set-up) and its core resources are
validated against the Kubernetes schemas (kubernetes-validate); the Strimzi and KEDA
resources are checked for the fields the code relies on: the cluster's guarantees, every
topic with its cleanup policy, the users' ACLs equal to deploy/kafka/README.md's, the
workers' lag-based scaling. The services themselves: test_kubernetes_services.py.
"""

from __future__ import annotations

import pytest
from kubernetes_validate import validate

from consentry_enforcer.settings import GROUP as ENFORCER_GROUP
from consentry_events import CATALOGUE, CONSENT_CHANGES, TOPICS
from consentry_materialiser.settings import MaterialiserSettings
from consentry_stack.kafka_guide import Grant, documented_grants
from consentry_stack.kafka_runtime import KAFKA_VERSION
from tests.support.kubernetes import OVERLAYS, environment, of_kind, rendered

KUBERNETES_VERSION = "1.33"
CORE = {"v1", "apps/v1", "policy/v1", "autoscaling/v2"}


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

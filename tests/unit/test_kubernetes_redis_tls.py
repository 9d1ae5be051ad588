"""deploy/kubernetes with Redis over TLS (components/redis-tls, overlays/small-tls),
offline: every Redis serves TLS only, the replica replicates over TLS, and every Redis
URL of every service -- the same ones the plain overlay has -- is rediss:// naming the
mounted CA, so each client verifies the server. The launcher runs the same set-up for
real (tests/integration/test_redis_tls.py)."""

from __future__ import annotations

from typing import Any

from kubernetes_validate import validate

from tests.support.kubernetes import environment, of_kind, rendered

TLS = "small-tls"
CA_DIR = "/etc/consentry/redis-tls"
CORE = {"v1", "apps/v1", "policy/v1", "autoscaling/v2"}


def redis_urls(overlay: str) -> dict[tuple[str, str], str]:
    """(deployment, variable) -> value, for every variable naming one of our Redis."""
    found: dict[tuple[str, str], str] = {}
    for name, deployment in of_kind(overlay, "Deployment").items():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            for variable, value in environment(overlay, container).items():
                if value is not None and "@consentry-redis-" in value:
                    found[name, variable] = value
    return found


def test_the_tls_overlay_renders_valid_kubernetes() -> None:
    for document in rendered(TLS):
        if document["apiVersion"] in CORE:
            validate(document, "1.33", strict=True)


def test_every_redis_url_is_tls_verified_against_the_mounted_ca() -> None:
    plain, tls = redis_urls("small"), redis_urls(TLS)
    assert set(tls) == set(plain), "every Redis URL of the plain overlay is covered"
    deployments = of_kind(TLS, "Deployment")
    for (name, variable), value in tls.items():
        assert value == "rediss://" + str(plain[name, variable]).removeprefix("redis://") + (
            f"?ssl_ca_certs={CA_DIR}/ca.crt"
        ), (name, variable)
        spec = deployments[name]["spec"]["template"]["spec"]
        (container,) = spec["containers"]
        assert {"name": "redis-tls", "mountPath": CA_DIR, "readOnly": True} in container[
            "volumeMounts"
        ], name
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert volumes["redis-tls"]["secret"]["secretName"] == "consentry-redis-tls", name


def _after(args: list[str], option: str) -> Any:
    return args[args.index(option) + 1]


def test_every_redis_serves_tls_only_and_the_replica_replicates_over_tls() -> None:
    deployments = of_kind(TLS, "Deployment")
    for name in ("consentry-redis-state", "consentry-redis-replica", "consentry-redis-store"):
        (redis,) = deployments[name]["spec"]["template"]["spec"]["containers"]
        args = redis["args"]
        assert _after(args, "--port") == "0", f"{name}: no plain port"
        assert _after(args, "--tls-port") == "6379"
        assert _after(args, "--tls-ca-cert-file") == "/tls/ca.crt"
        assert "--tls" in redis["readinessProbe"]["exec"]["command"][-1], name
    replica = deployments["consentry-redis-replica"]["spec"]["template"]["spec"]["containers"][0]
    assert _after(replica["args"], "--tls-replication") == "yes"

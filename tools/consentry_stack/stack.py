"""The whole local stack: Kafka, Redis (the consent state, and the enforcer's own store),
topics, the Consentry services and the canary.

Longer than 300 lines: one class owns every process of the stack -- their settings,
start order and stop order -- so that a test can stop and restart any one of them.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from consentry_auth import Issuer, default_audiences, key_set_json, parse_keys
from consentry_auth.keys import write_keys
from consentry_auth.keyset import KeySet
from consentry_kafka.signatures import CutOver, EventSigner, EventVerifier
from consentry_stack.kafka import KafkaBroker, KafkaCluster
from consentry_stack.ports import free_port, port_is_free
from consentry_stack.processes import ManagedProcess, StackError
from consentry_stack.prometheus import PrometheusServer
from consentry_stack.readiness import await_ready, fail_if_dead
from consentry_stack.redis_server import RedisServer
from consentry_stack.tls import ServerTls, write_server_tls
from consentry_stack.topics import create_topics
from consentry_stack.traces import TraceCollector
from consentry_state.acl import STORE_ACL_RULES

PROBE_ISRC = "ZZCSY0000000"
PROBE_PARTY = "consentry:launcher"
LAUNCHER = "catalogue:launcher"
"""The launcher's own principal: it registers the probe track."""


def _port(preferred: int) -> int:
    return preferred if preferred and port_is_free(preferred) else free_port()


@dataclass
class Stack:
    """Start with ``start_infra`` then ``start_services`` (or use ``running()``); ``stop``
    ends every process."""

    root: Path
    write_port: int = 0
    check_port: int = 0
    portal_port: int = 0
    kafka_nodes: int = 1
    """1: one combined node; 3: a KRaft cluster, topics replicated 3 with min ISR 2."""
    kafka: KafkaBroker | KafkaCluster = field(init=False)
    redis: RedisServer = field(init=False)
    store: RedisServer = field(init=False)
    """The enforcer's own Redis."""
    services: dict[str, ManagedProcess] = field(default_factory=dict, init=False)
    metrics_ports: dict[str, int] = field(default_factory=dict, init=False)
    canary_interval_s: float = 5.0
    env_overrides: dict[str, str] = field(default_factory=dict)
    """Extra settings for every service process (tests use it to shorten timeouts)."""
    write_kafka_via: int = 0
    """Fault tests: the write API reaches Kafka through this loopback port, which must
    forward to ``kafka.proxied_port`` (one broker only)."""
    materialiser_redis_via: int = 0
    """Fault tests: the materialiser reaches Redis through this loopback port."""
    kafka_scram_users: dict[str, str] = field(default_factory=dict)
    """SASL/SCRAM users for a broker that authorises by ACLs (one broker only); the
    services' ``*_KAFKA_*`` credentials then come through ``env_overrides``."""
    kafka_tls: ServerTls | None = None
    """With ``kafka_scram_users``: that listener speaks SASL_SSL with this certificate."""
    replica: bool = False
    """Start a read replica of Redis; the check service, the canary and ``check_redis_url``
    read from it (the writers keep the primary)."""
    replica_via: int = 0
    """Fault tests: the replica reaches its primary through this loopback port."""
    redis_tls: bool = False
    """Every Redis (the state, its replica, the enforcer's store) speaks TLS only, with a
    throwaway CA whose file every client's URL names (``rediss://…?ssl_ca_certs=…``)."""
    tracing: bool = True
    """The services export traces (OTLP, their default sampling) to the stack's own
    collector (``traces``: ``traces.jsonl`` in the stack's directory)."""

    def __post_init__(self) -> None:
        self.kafka = (
            KafkaBroker(
                self.root / "kafka",
                proxy_port=self.write_kafka_via,
                scram_users=self.kafka_scram_users,
                tls=self.kafka_tls,
            )
            if self.kafka_nodes == 1
            else KafkaCluster(self.root / "kafka", self.kafka_nodes)
        )
        tls = write_server_tls(self.root / "redis-tls") if self.redis_tls else None
        self.redis = RedisServer(self.root / "redis", tls=tls)
        self.store = RedisServer(self.root / "enforcer-redis", roles=dict(STORE_ACL_RULES), tls=tls)
        self.replica_redis = (
            RedisServer(
                self.root / "redis-replica",
                passwords=self.redis.passwords,
                replica_of=self.replica_via or self.redis.port,
                tls=tls,
            )
            if self.replica
            else None
        )
        self.prometheus: PrometheusServer | None = None
        self.traces = TraceCollector(self.root / "traces.jsonl") if self.tracing else None
        self.write_port = _port(self.write_port)
        self.check_port = _port(self.check_port)
        self.portal_port = _port(self.portal_port)
        self.signing_key, self.public_key = write_keys(self.root / "keys")
        # What the services verify tokens with: a key set (JWKS) they read again when it
        # changes, holding the one public key to start with (``consentry-admin keys``).
        self.key_set = self.root / "keys" / "keys.json"
        self.key_set.write_text(key_set_json(parse_keys(self.public_key.read_bytes())))
        self._issuer = Issuer(self.signing_key.read_bytes())
        # Events are signed with a key of their own (not the token key); readers verify
        # with a key set of the same form (``consentry-admin keys --set events.json``).
        self.event_signing_key, event_public = write_keys(self.root / "keys" / "events")
        self.event_key_set = self.root / "keys" / "events.json"
        self.event_key_set.write_text(key_set_json(parse_keys(event_public.read_bytes())))

    def event_verifier(self) -> EventVerifier:
        """Judges records as the stack's readers do (no cut-over: all must be signed)."""
        return EventVerifier(KeySet(self.event_key_set), CutOver({}))

    def event_signer(self) -> EventSigner:
        """Signs events as the write API does: for tests and benchmarks that write the
        consent or catalogue log straight to Kafka."""
        return EventSigner(self.event_signing_key)

    def token(self, subject: str, audiences: list[str] | None = None, ttl_s: int = 86_400) -> str:
        """A bearer token signed with this stack's dev key (audiences by kind by default)."""
        return self._issuer.issue(subject, audiences or default_audiences(subject), ttl_s)

    def bearer(self, subject: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(subject)}"}

    @property
    def write_url(self) -> str:
        return f"http://127.0.0.1:{self.write_port}"

    @property
    def check_url(self) -> str:
        return f"http://127.0.0.1:{self.check_port}"

    @property
    def portal_url(self) -> str:
        return f"http://127.0.0.1:{self.portal_port}"

    def login_link(self, party: str, session_s: int = 3600, link_s: int = 600) -> str:
        """A one-time portal sign-in for ``party`` (what ``consentry-admin login-link`` prints)."""
        return f"{self.portal_url}/login?link={self._issuer.login_link(party, session_s, link_s)}"

    @property
    def check_redis_url(self) -> str:
        """Where the check side reads: the replica if there is one, else the primary."""
        server = self.replica_redis or self.redis
        return server.url_for("checker")

    def start_infra(self) -> None:
        if self.traces is not None:
            self.traces.start()
        self.redis.start()
        self.store.start()
        if self.replica_redis is not None:
            self.replica_redis.start()
        self.kafka.start()
        create_topics(self.kafka.bootstrap, replication=min(3, self.kafka_nodes))

    def service_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "PYTHONUNBUFFERED": "1",
                "CONSENTRY_WRITE_KAFKA_BOOTSTRAP": (
                    f"127.0.0.1:{self.write_kafka_via}"
                    if self.write_kafka_via
                    else self.kafka.bootstrap
                ),
                "CONSENTRY_WRITE_PORT": str(self.write_port),
                "CONSENTRY_WRITE_REDIS_URL": self.redis.url_for("writeapi"),
                "CONSENTRY_WRITE_AUTH_PUBLIC_KEY_FILE": str(self.key_set),
                "CONSENTRY_MATERIALISER_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
                "CONSENTRY_MATERIALISER_REDIS_URL": self.redis.url_for("materialiser"),
                "CONSENTRY_ENFORCER_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
                # Reads only: off the primary, whose one thread the materialiser's writes need.
                "CONSENTRY_ENFORCER_REDIS_URL": (self.replica_redis or self.redis).url_for(
                    "enforcer"
                ),
                "CONSENTRY_ENFORCER_STORE_URL": self.store.url_for("enforcer"),
                "CONSENTRY_WRITE_STORE_URL": self.store.url_for("writeapi"),
                "CONSENTRY_WRITE_LIMITS_URL": self.store.url_for("limiter"),
                "CONSENTRY_CHECK_LIMITS_URL": self.store.url_for("limiter"),
                "CONSENTRY_PORTAL_LIMITS_URL": self.store.url_for("limiter"),
                "CONSENTRY_RECEIPTS_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
                "CONSENTRY_RECEIPTS_REDIS_URL": (self.replica_redis or self.redis).url_for(
                    "enforcer"
                ),
                "CONSENTRY_RECEIPTS_STORE_URL": self.store.url_for("receipts"),
                "CONSENTRY_CHECK_REDIS_URL": self.check_redis_url,
                "CONSENTRY_CHECK_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
                "CONSENTRY_METER_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
                "CONSENTRY_METER_STORE_URL": self.store.url_for("meter"),
                "CONSENTRY_CHECK_AUTH_PUBLIC_KEY_FILE": str(self.key_set),
                "CONSENTRY_CHECK_PORT": str(self.check_port),
                "CONSENTRY_WRITE_EVENT_SIGNING_KEY_FILE": str(self.event_signing_key),
            }
        )
        for service in ("WRITE", "MATERIALISER", "ENFORCER", "RECEIPTS", "METER", "CHECK", "AUDIT"):
            env[f"CONSENTRY_{service}_EVENT_KEYS_FILE"] = str(self.event_key_set)
        if self.traces is not None:  # OpenTelemetry's own variables (consentry_tracing)
            env["OTEL_TRACES_EXPORTER"] = "otlp"
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = self.traces.endpoint
            env["OTEL_BSP_SCHEDULE_DELAY"] = "200"  # ms: a span is in the file at once
        env.update(self.env_overrides)
        return env

    def metrics_port(self, name: str) -> int:
        """A process's metrics port, kept across restarts so Prometheus finds it again."""
        if name not in self.metrics_ports:
            self.metrics_ports[name] = free_port()
        return self.metrics_ports[name]

    def _process(self, name: str, module: str, log: Path, env: dict[str, str]) -> ManagedProcess:
        return ManagedProcess(name, [sys.executable, "-m", module], log, env=env, cwd=self.root)

    def materialiser(self, name: str = "materialiser") -> ManagedProcess:
        env = self.service_env()
        env["CONSENTRY_MATERIALISER_DATA_DIR"] = str(self.root / name / "data")
        env["CONSENTRY_MATERIALISER_METRICS_PORT"] = str(self.metrics_port(name))
        if self.materialiser_redis_via:
            url = self.redis.url_for("materialiser")
            env["CONSENTRY_MATERIALISER_REDIS_URL"] = url.replace(
                f":{self.redis.port}/", f":{self.materialiser_redis_via}/"
            )
        return self._process(
            name, "consentry_materialiser", self.root / name / "materialiser.log", env
        )

    def enforcer(self, name: str = "enforcer") -> ManagedProcess:
        env = self.service_env()
        env["CONSENTRY_ENFORCER_DATA_DIR"] = str(self.root / name / "data")
        env["CONSENTRY_ENFORCER_METRICS_PORT"] = str(self.metrics_port(name))
        return self._process(name, "consentry_enforcer", self.root / name / "enforcer.log", env)

    def receipts(self, name: str = "receipts") -> ManagedProcess:
        env = self.service_env()
        env["CONSENTRY_RECEIPTS_DATA_DIR"] = str(self.root / name / "data")
        env["CONSENTRY_RECEIPTS_METRICS_PORT"] = str(self.metrics_port(name))
        return self._process(name, "consentry_receipts", self.root / name / "receipts.log", env)

    def meter(self, name: str = "meter") -> ManagedProcess:
        env = self.service_env()
        env["CONSENTRY_METER_DATA_DIR"] = str(self.root / name / "data")
        env["CONSENTRY_METER_METRICS_PORT"] = str(self.metrics_port(name))
        return self._process(name, "consentry_meter", self.root / name / "meter.log", env)

    def start_services(self, timeout_s: float = 60.0) -> None:
        env = self.service_env()
        self.services["materialiser"] = self.materialiser()
        self.services["enforcer"] = self.enforcer()
        self.services["receipts"] = self.receipts()
        self.services["meter"] = self.meter()
        self.services["writeapi"] = self._process(
            "writeapi", "consentry_writeapi", self.root / "writeapi.log", env
        )
        self.services["checkapi"] = self._process(
            "checkapi", "consentry_checkapi", self.root / "checkapi.log", env
        )
        for process in self.services.values():
            process.start()
        deadline = time.monotonic() + timeout_s
        await_ready(f"{self.write_url}/readyz", "writeapi", deadline, self.services.values())
        await_ready(f"{self.check_url}/readyz", "checkapi", deadline, self.services.values())
        self._await_pipeline(deadline)
        portal_env = {
            **env,
            "CONSENTRY_PORTAL_WRITE_URL": self.write_url,
            "CONSENTRY_PORTAL_CHECK_URL": self.check_url,
            "CONSENTRY_PORTAL_CHECK_TOKEN": self.token("service:portal", ttl_s=365 * 86_400),
            "CONSENTRY_PORTAL_STORE_URL": self.store.url_for("portal"),
            "CONSENTRY_PORTAL_AUTH_PUBLIC_KEY_FILE": str(self.key_set),
            "CONSENTRY_PORTAL_PORT": str(self.portal_port),
        }
        self.services["portal"] = self._process(
            "portal", "consentry_portal", self.root / "portal.log", portal_env
        )
        self.services["portal"].start()
        await_ready(f"{self.portal_url}/readyz", "portal", deadline, self.services.values())
        canary_env = {
            **env,
            "CONSENTRY_CANARY_WRITE_URL": self.write_url,
            "CONSENTRY_CANARY_CHECK_URL": self.check_url,
            "CONSENTRY_CANARY_REDIS_URL": self.check_redis_url,
            "CONSENTRY_CANARY_PARTY_TOKEN": self.token("canary:consentry", ttl_s=365 * 86_400),
            "CONSENTRY_CANARY_CATALOGUE_TOKEN": self.token("catalogue:canary", ttl_s=365 * 86_400),
            "CONSENTRY_CANARY_CHECK_TOKEN": self.token("service:canary", ttl_s=365 * 86_400),
            "CONSENTRY_CANARY_INTERVAL_S": str(self.canary_interval_s),
            "CONSENTRY_CANARY_METRICS_PORT": str(self.metrics_port("canary")),
        }
        self.services["canary"] = self._process(
            "canary", "consentry_canary", self.root / "canary.log", canary_env
        )
        self.services["canary"].start()

    @contextmanager
    def running(self, timeout_s: float = 60.0) -> Iterator[Stack]:
        """Infrastructure and services up for the ``with`` block; every process stopped after."""
        try:
            self.start_infra()
            self.start_services(timeout_s)
            yield self
        finally:
            self.stop()

    def scrape_targets(self) -> dict[str, list[str]]:
        local = "127.0.0.1:{}".format
        return {
            "consentry-writeapi": [local(self.write_port)],
            "consentry-checkapi": [local(self.check_port)],
            "consentry-materialiser": [local(self.metrics_port("materialiser"))],
            "consentry-enforcer": [local(self.metrics_port("enforcer"))],
            "consentry-receipts": [local(self.metrics_port("receipts"))],
            "consentry-meter": [local(self.metrics_port("meter"))],
            "consentry-canary": [local(self.metrics_port("canary"))],
        }

    def start_prometheus(self, alert_for: str | None = None) -> PrometheusServer:
        self.prometheus = PrometheusServer(
            self.root / "prometheus", self.scrape_targets(), alert_for=alert_for
        )
        self.prometheus.start()
        return self.prometheus

    def _await_pipeline(self, deadline: float) -> None:
        """Register the launcher's probe track and wait until the check service sees it."""
        response = httpx.post(
            f"{self.write_url}/v1/tracks",
            json={"isrc": PROBE_ISRC, "upc": "000000000000", "parties": [PROBE_PARTY]},
            headers=self.bearer(LAUNCHER),
            timeout=15.0,
        )
        if response.status_code != 202:
            raise StackError(f"probe track refused: {response.status_code} {response.text}")
        while True:
            answer = httpx.get(
                f"{self.check_url}/v1/check",
                params={"isrc": PROBE_ISRC, "purpose": "ai"},
                headers=self.bearer("service:launcher"),
                timeout=2.0,
            ).json()
            if answer["reasons"][0]["basis"] not in ("unknown_track", "unverifiable"):
                return
            fail_if_dead(
                self.services.values(), deadline, "the materialiser did not apply the probe track"
            )
            time.sleep(0.05)

    def stop(self) -> None:
        for process in reversed(list(self.services.values())):
            process.stop()
        self.services.clear()
        if self.prometheus is not None:
            self.prometheus.stop()
        self.kafka.stop()
        if self.replica_redis is not None:
            self.replica_redis.stop()
        self.redis.stop()
        self.store.stop()
        if self.traces is not None:
            self.traces.stop()

    def describe(self) -> dict[str, str]:
        extra = {} if self.prometheus is None else {"CONSENTRY_PROMETHEUS_URL": self.prometheus.url}
        return {
            **extra,
            "CONSENTRY_WRITE_URL": self.write_url,
            "CONSENTRY_CHECK_URL": self.check_url,
            "CONSENTRY_PORTAL_URL": self.portal_url,
            "CONSENTRY_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
            "CONSENTRY_REDIS_URL": self.redis.url,
            # The `consentry` command of downstream systems: the check side's Redis
            # (read-only), the change feed's Kafka.
            "CONSENTRY_CHECK_REDIS_URL": self.check_redis_url,
            "CONSENTRY_FEED_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
            # consentry-admin statement --publish: the statements for the read API.
            "CONSENTRY_SETTLE_STORE_URL": self.store.url_for("settle"),
            # consentry-admin verify-chain and statement: the keys events are verified with.
            "CONSENTRY_AUDIT_EVENT_KEYS_FILE": str(self.event_key_set),
        }

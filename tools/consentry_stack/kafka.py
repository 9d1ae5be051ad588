"""Apache Kafka in KRaft mode on loopback: one combined node (optionally with a SCRAM
and TLS listener authorising by ACLs), or a three-node cluster."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from consentry_stack.kafka_runtime import LOG4J, java, kafka_libs
from consentry_stack.ports import free_port, wait_listening
from consentry_stack.processes import ManagedProcess, StackError
from consentry_stack.tls import ServerTls


@dataclass
class KafkaBroker:
    """One combined broker+controller node; ``start`` returns once it serves metadata."""

    data_dir: Path
    port: int = 0
    controller_port: int = 0
    heap: str = "512m"
    node_id: int = 1
    voters: str = ""
    """``id@host:port,...`` of the controller quorum; this node alone when empty."""
    cluster_id: str = ""
    replication: int = 1
    """Replication of Kafka's internal topics (consumer offsets, transactions)."""
    proxy_port: int = 0
    """When set, a second listener (``proxied_port``) advertised at this port: a client
    that bootstraps there keeps talking through whatever forwards it (a fault proxy)."""
    proxied_port: int = 0
    scram_users: dict[str, str] = field(default_factory=dict)
    """SASL/SCRAM-SHA-512 users (name -> password). When set, the node also listens with
    SASL (SASL_SSL with ``tls``, else SASL_PLAINTEXT) on ``sasl_port`` and authorises
    every request by ACLs (nothing is allowed without one); the PLAINTEXT loopback
    listener, used by the controller and the launcher, stays the super user ANONYMOUS --
    a test stand-in for a cluster's admin."""
    sasl_port: int = 0
    tls: ServerTls | None = None
    """With ``scram_users``: the SASL listener speaks SASL_SSL with this certificate."""

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        if self.scram_users:
            self.sasl_port = self.sasl_port or free_port()
        self.controller_port = self.controller_port or free_port()
        if self.proxy_port:
            self.proxied_port = self.proxied_port or free_port()
        self.voters = self.voters or f"{self.node_id}@127.0.0.1:{self.controller_port}"
        self.cluster_id = self.cluster_id or (
            base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        )
        self._process: ManagedProcess | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def sasl_bootstrap(self) -> str:
        if not self.sasl_port:
            raise StackError("this Kafka node has no SASL listener (no scram_users)")
        return f"127.0.0.1:{self.sasl_port}"

    @property
    def process(self) -> ManagedProcess:
        if self._process is None:
            raise StackError("Kafka was not started")
        return self._process

    def _write_config(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        props = self.data_dir / "server.properties"
        listeners = [
            f"PLAINTEXT://127.0.0.1:{self.port}",
            f"CONTROLLER://127.0.0.1:{self.controller_port}",
        ]
        advertised = [f"PLAINTEXT://127.0.0.1:{self.port}"]
        if self.proxy_port:
            listeners.append(f"PROXIED://127.0.0.1:{self.proxied_port}")
            advertised.append(f"PROXIED://127.0.0.1:{self.proxy_port}")
        secured = self._sasl_settings()
        if self.scram_users:
            listeners.append(f"SASL://127.0.0.1:{self.sasl_port}")
            advertised.append(f"SASL://127.0.0.1:{self.sasl_port}")
        props.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    f"node.id={self.node_id}",
                    f"controller.quorum.voters={self.voters}",
                    f"listeners={','.join(listeners)}",
                    f"advertised.listeners={','.join(advertised)}",
                    "inter.broker.listener.name=PLAINTEXT",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map="
                    "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,PROXIED:PLAINTEXT,"
                    f"SASL:{'SASL_PLAINTEXT' if self.tls is None else 'SASL_SSL'}",
                    *secured,
                    f"log.dirs={self.data_dir / 'log'}",
                    f"offsets.topic.replication.factor={self.replication}",
                    "offsets.topic.num.partitions=6",
                    f"transaction.state.log.replication.factor={self.replication}",
                    f"transaction.state.log.min.isr={min(2, self.replication)}",
                    "broker.session.timeout.ms=4000",
                    "broker.heartbeat.interval.ms=1000",
                    "group.initial.rebalance.delay.ms=0",
                    "auto.create.topics.enable=false",
                    "unclean.leader.election.enable=false",
                    "num.partitions=1",
                    "",
                ]
            )
        )
        (self.data_dir / "log4j.properties").write_text(
            LOG4J.format(path=self.data_dir / "server.log")
        )
        return props

    def _sasl_settings(self) -> list[str]:
        """The SASL listener's settings (none without ``scram_users``)."""
        if not self.scram_users:
            return []
        settings = [
            "sasl.enabled.mechanisms=SCRAM-SHA-512",
            "listener.name.sasl.scram-sha-512.sasl.jaas.config="
            "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found=false",
            "super.users=User:ANONYMOUS",
        ]
        if self.tls is not None:
            settings += [
                "listener.name.sasl.ssl.keystore.type=PKCS12",
                f"listener.name.sasl.ssl.keystore.location={self.tls.keystore}",
                f"listener.name.sasl.ssl.keystore.password={self.tls.password}",
            ]
        return settings

    def start(self, timeout_s: float = 60.0) -> None:
        self.format()
        self.launch()
        self.wait_ready(timeout_s)

    def format(self) -> None:
        """Write the configuration and format the storage (once per data directory)."""
        props = self._write_config()
        classpath = f"{kafka_libs()}/*"
        log4j = f"-Dlog4j.configuration=file:{self.data_dir / 'log4j.properties'}"
        fmt = subprocess.run(
            [
                java(),
                "-cp",
                classpath,
                log4j,
                "kafka.tools.StorageTool",
                "format",
                # One argument, so an id that starts with '-' (base64 can) is not a flag.
                f"--cluster-id={self.cluster_id}",
                "-c",
                str(props),
                *(
                    f"--add-scram=SCRAM-SHA-512=[name={user},password={password}]"
                    for user, password in self.scram_users.items()
                ),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if fmt.returncode != 0:
            raise StackError(f"formatting Kafka storage failed:\n{fmt.stdout}\n{fmt.stderr}")

    def launch(self) -> None:
        """Start the JVM on the formatted data directory (again, after a kill)."""
        props = self.data_dir / "server.properties"
        classpath = f"{kafka_libs()}/*"
        log4j = f"-Dlog4j.configuration=file:{self.data_dir / 'log4j.properties'}"
        self._process = ManagedProcess(
            f"kafka-{self.node_id}",
            [
                java(),
                f"-Xmx{self.heap}",
                f"-Xms{self.heap}",
                "-XX:+UseG1GC",
                "-Djava.awt.headless=true",
                log4j,
                "-cp",
                classpath,
                "kafka.Kafka",
                str(props),
            ],
            self.data_dir / "stdout.log",
        )
        self._process.start()

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        if not wait_listening(self.port, timeout_s):
            raise StackError(f"Kafka did not listen on {self.port}:\n{self.process.tail()}")
        asyncio.run(_wait_metadata(self.bootstrap, deadline))

    def acl(self, *args: str) -> None:
        """Run ``kafka-acls.sh --add <args>`` (Kafka's AclCommand) as the super user."""
        result = subprocess.run(
            [
                java(),
                "-cp",
                f"{kafka_libs()}/*",
                f"-Dlog4j.configuration=file:{self.data_dir / 'log4j.properties'}",
                "kafka.admin.AclCommand",
                f"--bootstrap-server={self.bootstrap}",
                "--add",
                "--force",
                *args,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"kafka-acls --add {' '.join(args)} failed:\n{result.stderr}")

    @property
    def processes(self) -> list[ManagedProcess]:
        return [self.process]

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()


class KafkaCluster:
    """Several combined broker+controller nodes sharing one KRaft quorum."""

    def __init__(self, data_dir: Path, nodes: int = 3) -> None:
        controller_ports = [free_port() for _ in range(nodes)]
        voters = ",".join(f"{i + 1}@127.0.0.1:{port}" for i, port in enumerate(controller_ports))
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        self.nodes = [
            KafkaBroker(
                data_dir / f"node-{i + 1}",
                controller_port=port,
                node_id=i + 1,
                voters=voters,
                cluster_id=cluster_id,
                replication=min(3, nodes),
                heap="384m",
            )
            for i, port in enumerate(controller_ports)
        ]

    @property
    def bootstrap(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes)

    @property
    def processes(self) -> list[ManagedProcess]:
        return [node.process for node in self.nodes]

    def start(self, timeout_s: float = 90.0) -> None:
        for node in self.nodes:
            node.format()
        for node in self.nodes:
            node.launch()  # all at once: a quorum needs a majority to elect
        for node in self.nodes:
            node.wait_ready(timeout_s)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


async def _wait_metadata(bootstrap: str, deadline: float) -> None:
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            await admin.describe_cluster()
            return
        except KafkaError as exc:
            if time.monotonic() > deadline:
                raise StackError(f"Kafka at {bootstrap} did not become ready: {exc!r}") from exc
            await asyncio.sleep(0.2)
        finally:
            await admin.close()

"""Apache Kafka in KRaft mode, from Maven Central jars fetched by Maven and cached.

Kafka 3.9.1: the last 3.x release, KRaft production-ready, and it still speaks every
protocol version aiokafka 0.14 and faust-streaming 0.15 may negotiate.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from consentry_events import TOPICS
from consentry_stack.ports import free_port, wait_listening
from consentry_stack.processes import ManagedProcess, StackError

KAFKA_VERSION = "3.9.1"
SCALA_VERSION = "2.13"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>consentry.local</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_{scala}</artifactId>
      <version>{kafka}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-reload4j</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
"""

_LOG4J = """log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File={path}
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
"""


def cache_dir() -> Path:
    root = os.environ.get("CONSENTRY_CACHE_DIR") or Path.home() / ".cache" / "consentry"
    return Path(root)


def kafka_libs(version: str = KAFKA_VERSION) -> Path:
    """The directory of Kafka's jars, fetched with Maven from Maven Central on first use."""
    libs = cache_dir() / f"kafka_{SCALA_VERSION}-{version}" / "libs"
    marker = libs.parent / "complete"
    if marker.exists():
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError(
            "Maven (mvn) is needed to fetch Kafka's jars; install it (apt-get install maven)"
        )
    work = libs.parent
    work.mkdir(parents=True, exist_ok=True)
    pom = work / "pom.xml"
    pom.write_text(_POM.format(scala=SCALA_VERSION, kafka=version))
    result = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
            "-DincludeScope=runtime",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise StackError(
            f"Maven could not fetch Kafka {version}:\n{result.stdout}\n{result.stderr}"
        )
    marker.write_text(version)
    return libs


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        raise StackError("a Java runtime (17+) is needed to run Kafka")
    return java


@dataclass
class KafkaBroker:
    """One combined broker+controller node; ``start`` returns once it serves metadata."""

    data_dir: Path
    port: int = 0
    controller_port: int = 0
    heap: str = "512m"

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        self.controller_port = self.controller_port or free_port()
        self._process: ManagedProcess | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def process(self) -> ManagedProcess:
        if self._process is None:
            raise StackError("Kafka was not started")
        return self._process

    def _write_config(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        props = self.data_dir / "server.properties"
        props.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    f"log.dirs={self.data_dir / 'log'}",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=6",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "auto.create.topics.enable=false",
                    "num.partitions=1",
                    "",
                ]
            )
        )
        (self.data_dir / "log4j.properties").write_text(
            _LOG4J.format(path=self.data_dir / "server.log")
        )
        return props

    def start(self, timeout_s: float = 60.0) -> None:
        libs = kafka_libs()
        props = self._write_config()
        classpath = f"{libs}/*"
        log4j = f"-Dlog4j.configuration=file:{self.data_dir / 'log4j.properties'}"
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        fmt = subprocess.run(
            [
                _java(),
                "-cp",
                classpath,
                log4j,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(props),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if fmt.returncode != 0:
            raise StackError(f"formatting Kafka storage failed:\n{fmt.stdout}\n{fmt.stderr}")
        self._process = ManagedProcess(
            "kafka",
            [
                _java(),
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
        deadline = time.monotonic() + timeout_s
        if not wait_listening(self.port, timeout_s):
            raise StackError(f"Kafka did not listen on {self.port}:\n{self._process.tail()}")
        asyncio.run(_wait_metadata(self.bootstrap, deadline))

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()


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


async def _create_topics(bootstrap: str, replication: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        for spec in TOPICS:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(
                            spec.name,
                            spec.partitions,
                            replication,
                            topic_configs=dict(spec.configs),
                        )
                    ]
                )
    finally:
        await admin.close()


def create_topics(bootstrap: str, replication: int = 1) -> None:
    """Create Consentry's topics with their settings; existing ones are left alone."""
    asyncio.run(_create_topics(bootstrap, replication))

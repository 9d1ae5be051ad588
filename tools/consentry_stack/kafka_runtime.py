"""Apache Kafka's jars, from Maven Central through Maven, cached; and the JVM to run them.

Kafka 3.9.1: the last 3.x release, KRaft production-ready, and it still speaks every
protocol version aiokafka 0.14 and faust-streaming 0.15 may negotiate.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from consentry_stack.processes import StackError

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


def java() -> str:
    java = shutil.which("java")
    if java is None:
        raise StackError("a Java runtime (17+) is needed to run Kafka")
    return java


LOG4J = """log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File={path}
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
"""
"""Kafka's log configuration: to a file in the node's directory, request logs quiet."""

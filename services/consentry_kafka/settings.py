"""What every Consentry faust worker's settings have, declared once: its Kafka
connection, group, failover time, Redis timeout, metrics endpoint and faust's data
directory. A worker's settings class adds only its own (``worker_app`` reads these)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from pydantic import Field

from consentry_kafka.connection import KafkaClientSettings


def group(name: str) -> Any:
    """The ``group_id`` field of a worker whose consumer group is ``name``."""
    return Field(default=name, description="Kafka consumer group.")


def metrics_port(port: int) -> Any:
    """The ``metrics_port`` field of a worker (or service) with this default port."""
    return Field(default=port, ge=0, le=65535, description="Prometheus endpoint port.")


def data_dir(worker: str) -> Any:
    """The ``data_dir`` field of ``worker``."""
    place = Path(tempfile.gettempdir()) / f"consentry-{worker}"
    return Field(default=place, description="faust's local data directory.")


class WorkerSettings(KafkaClientSettings):
    group_id: str
    metrics_port: int
    data_dir: Path
    session_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Kafka group session timeout: how long a dead worker's partitions wait "
        "before another worker takes them over (failover time).",
    )
    redis_timeout_s: float = Field(
        default=5.0, gt=0, description="Redis socket and connect timeout; failures are retried."
    )
    metrics_host: str = Field(default="127.0.0.1", description="Prometheus endpoint address.")
    fetch_max: int = Field(
        default=2000, ge=1, description="Most records taken from Kafka in one fetch."
    )

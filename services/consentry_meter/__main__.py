"""``python -m consentry_meter``: run one meter worker of its group."""

from __future__ import annotations

from prometheus_client import start_http_server

from consentry_kafka.worker import run_worker
from consentry_meter.app import create_app
from consentry_meter.settings import MeterSettings


def main() -> None:
    settings = MeterSettings()
    start_http_server(settings.metrics_port, addr=settings.metrics_host)
    run_worker(create_app(settings))


if __name__ == "__main__":
    main()

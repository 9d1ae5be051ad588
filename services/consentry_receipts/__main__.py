"""``python -m consentry_receipts``: run one receipts tracker worker of its group."""

from __future__ import annotations

from prometheus_client import start_http_server

from consentry_kafka.worker import run_worker
from consentry_receipts.app import create_app
from consentry_receipts.settings import ReceiptsSettings


def main() -> None:
    settings = ReceiptsSettings()
    start_http_server(settings.metrics_port, addr=settings.metrics_host)
    run_worker(create_app(settings))


if __name__ == "__main__":
    main()

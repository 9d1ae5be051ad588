"""``python -m consentry_materialiser``: run one materialiser worker of the consumer group."""

from __future__ import annotations

from prometheus_client import start_http_server

from consentry_kafka.worker import run_worker
from consentry_materialiser.app import create_app
from consentry_materialiser.settings import MaterialiserSettings
from consentry_tracing import configure


def main() -> None:
    settings = MaterialiserSettings()
    start_http_server(settings.metrics_port, addr=settings.metrics_host)
    configure("consentry-materialiser")
    app = create_app(settings)
    run_worker(app)


if __name__ == "__main__":
    main()

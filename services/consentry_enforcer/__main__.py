"""``python -m consentry_enforcer``: run one enforcer worker of its consumer group."""

from __future__ import annotations

from prometheus_client import start_http_server

from consentry_enforcer.app import create_app
from consentry_enforcer.settings import EnforcerSettings
from consentry_kafka.worker import run_worker
from consentry_tracing import configure


def main() -> None:
    settings = EnforcerSettings()
    start_http_server(settings.metrics_port, addr=settings.metrics_host)
    configure("consentry-enforcer")
    app = create_app(settings)
    run_worker(app, settings.nice)


if __name__ == "__main__":
    main()

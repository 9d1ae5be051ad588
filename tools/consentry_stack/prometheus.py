"""Debian's Prometheus on a free loopback port, scraping the local stack."""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from consentry_stack.ports import free_port
from consentry_stack.processes import ManagedProcess, StackError

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"


@dataclass
class PrometheusServer:
    data_dir: Path
    targets: dict[str, list[str]] = field(default_factory=dict)
    """job name -> ["127.0.0.1:port", ...]"""
    port: int = 0
    alert_for: str | None = None
    """Tests only: replace every alert's ``for`` duration (e.g. ``2s``), to see an alert
    fire without waiting out minutes; the rules are otherwise the deployed ones."""

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        self._process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_targets(self) -> None:
        folder = self.data_dir / "targets"
        folder.mkdir(parents=True, exist_ok=True)
        for job, addresses in self.targets.items():
            (folder / f"{job}.json").write_text(json.dumps([{"targets": addresses}]))

    def start(self, timeout_s: float = 30.0) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            raise StackError("prometheus is not installed; `make setup` installs Debian's package")
        if not DEPLOY.is_dir():
            raise StackError(f"Prometheus configuration not found at {DEPLOY}")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(DEPLOY / "prometheus.local.yml", self.data_dir / "prometheus.yml")
        shutil.copytree(DEPLOY / "rules", self.data_dir / "rules", dirs_exist_ok=True)
        if self.alert_for is not None:
            for rules in (self.data_dir / "rules").glob("*.yml"):
                text = re.sub(r"(?m)^(\s+for:) \S+$", rf"\1 {self.alert_for}", rules.read_text())
                rules.write_text(text)
        self.write_targets()
        self._process = ManagedProcess(
            "prometheus",
            [
                binary,
                f"--config.file={self.data_dir / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.data_dir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            self.data_dir / "prometheus.log",
        )
        self._process.start()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or not self._process.alive():
                raise StackError(f"Prometheus did not start:\n{self._process.tail()}")
            time.sleep(0.1)

    @property
    def process(self) -> ManagedProcess:
        if self._process is None:
            raise StackError("Prometheus was not started")
        return self._process

    def alerts(self) -> dict[str, str]:
        """Alert name -> state (``pending`` or ``firing``) right now."""
        found = httpx.get(f"{self.url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
        return {a["labels"]["alertname"]: a["state"] for a in found}

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()

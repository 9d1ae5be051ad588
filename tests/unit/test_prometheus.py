"""Prometheus configuration, rules and the dashboard, checked by promtool and against code."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from consentry_stack import dashboard

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    assert binary is not None, "promtool is installed by `make setup` (Debian's prometheus)"
    return subprocess.run([binary, *args], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("config", ["prometheus.local.yml", "prometheus.compose.yml"])
def test_promtool_accepts_the_scrape_configuration(config: str) -> None:
    result = promtool("check", "config", "--syntax-only", str(PROMETHEUS / config))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_accepts_the_rules() -> None:
    result = promtool("check", "rules", str(PROMETHEUS / "rules" / "consentry.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rule_unit_tests_pass() -> None:
    result = promtool("test", "rules", str(PROMETHEUS / "tests" / "consentry.test.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dashboard_file_is_generated_from_the_panel_list() -> None:
    path = ROOT / "deploy" / "grafana" / "dashboards" / "consentry.json"
    assert path.read_text() == dashboard.render(), "run `python -m consentry_stack.dashboard`"

"""The documentation site: it builds with ``mkdocs build --strict`` (a broken link, anchor or
snippet fails), within a minute, offline; its reference pages are generated from the code
and say what the code holds; and the README stays a first page whose links all lead
somewhere."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"
BUILD_LIMIT_S = 60.0


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once for this module as `make docs` builds it."""
    out = tmp_path_factory.mktemp("site")
    # Material's notice about its successor is printed on every build; it says nothing here.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    started = time.monotonic()
    command = [sys.executable, "-m", "mkdocs", "build", "--strict"]
    built = subprocess.run(
        [*command, "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=2 * BUILD_LIMIT_S,
        check=False,
    )
    took = time.monotonic() - started
    assert built.returncode == 0, built.stdout + built.stderr
    assert took < BUILD_LIMIT_S, f"the site took {took:.1f} s to build"
    return out


def page(site: Path, path: str) -> str:
    """A built page's text as a reader sees it (tags dropped, entities read)."""
    return html.unescape(re.sub(r"<[^>]+>", "", (site / path / "index.html").read_text()))


def test_site_builds_strict_and_offline(site: Path) -> None:
    index = (site / "index.html").read_text()
    assert "Consentry" in index
    # No web fonts fetched (theme.font: false) and no script from anywhere else.
    assert "fonts.googleapis.com" not in index
    assert not re.search(r'<script[^>]+src="https?://', index)


def test_settings_reference_is_read_from_the_settings_classes(site: Path) -> None:
    settings = page(site, "reference/settings")
    for variable in (
        "CONSENTRY_CHECK_REDIS_URL",
        "CONSENTRY_CHECK_HEARTBEAT_BOUND_S",
        "CONSENTRY_WRITE_PRODUCE_TIMEOUT_S",
        "CONSENTRY_MATERIALISER_KAFKA_BOOTSTRAP",
        "CONSENTRY_PORTAL_SECURE_COOKIES",
        "CONSENTRY_FEED_KAFKA_BOOTSTRAP",
        "CONSENTRY_AUDIT_EVENT_KEYS_FILE",
    ):
        assert variable in settings, variable
    assert "How long to wait for the broker's acks=all" in settings  # its description


def test_metrics_reference_is_read_from_the_metric_definitions(site: Path) -> None:
    metrics = page(site, "reference/metrics")
    for name in (
        "consentry_materialiser_propagation_seconds",
        "consentry_write_requests_total",
        "consentry_receipts_overdue",
        "consentry_checks_total",  # a custom collector's, named only at scrape time
        "consentry_check_cache_subscribed",
    ):
        assert name in metrics, name
    assert "process_cpu_seconds_total" not in metrics


def test_http_api_references_come_from_the_openapi_documents(site: Path) -> None:
    write = page(site, "reference/write-api")
    for path in ("/v1/decisions/many", "/v1/delegations", "/v1/receipts", "/v1/catalogue/ern"):
        assert path in write, path
    check = page(site, "reference/check-service")
    for path in ("/v1/check", "/v1/filter", "/v1/usage"):
        assert path in check, path
    assert "ai.training" in check  # the taxonomy's purposes, as the apps list them
    overview = page(site, "reference/http-apis")
    assert "Portal" in overview


def test_events_reference_is_read_from_the_event_models(site: Path) -> None:
    events = page(site, "reference/events")
    for name in ("consent-changed.v1", "enforcement-changed.v1", "usage-violation.v1"):
        assert name in events, name
    assert "consentry.enforcement.v1" in events  # the topic that carries it
    assert "prev_hash" in events


def test_asyncapi_document_is_published(site: Path) -> None:
    asyncapi = page(site, "reference/asyncapi")
    assert "consentry.consent-changes.v1" in asyncapi
    assert "asyncapi: 3.0.0" in asyncapi  # the document itself, included
    assert (site / "asyncapi.yaml").read_text() == (ROOT / "docs" / "asyncapi.yaml").read_text()


def test_performance_page_is_fed_by_the_benchmark_results(site: Path) -> None:
    performance = page(site, "performance")
    for results in ("results.md", "scale.md"):
        first = (ROOT / "bench" / "results" / results).read_text().split(";")[0]
        assert first in performance, results


def test_readme_is_a_first_page() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines"


def test_every_relative_link_of_the_readme_leads_to_a_file() -> None:
    text = README.read_text()
    targets = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r'src="([^"]+)"', text)
    relative = [t for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]
    assert relative
    missing = [t for t in relative if not (ROOT / t.split("#")[0]).exists()]
    assert not missing, missing


def test_the_readme_first_example_is_a_python_script() -> None:
    found = re.search(r"<!-- first-check -->\n```python\n(.*?)\n```", README.read_text(), re.S)
    assert found is not None
    compile(found.group(1), "first_check.py", "exec")

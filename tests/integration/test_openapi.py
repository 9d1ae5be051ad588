"""The OpenAPI documents tell the truth, tried as a client generator would: schemathesis's
own command, ``st run --checks all``, exactly as a person runs it from the repository
root (``schemathesis.toml``: the hooks that read what the documents say beyond JSON
Schema), against both running services -- status codes, content types, headers and
bodies documented; schema-valid requests accepted, schema-violating ones refused; auth
not ignored; every phase (examples, coverage, fuzzing, stateful). The docs pages need
no internet."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from consentry_auth import CHECK_AUDIENCE, WRITE_AUDIENCE
from consentry_stack.stack import Stack
from tests.support.http import ADMIN

ROOT = Path(__file__).parents[2]
ST = Path(sys.executable).parent / "st"


@pytest.mark.parametrize("service", ["write", "check"])
def test_every_operation_conforms_to_its_document(stack: Stack, service: str) -> None:
    url = stack.write_url if service == "write" else stack.check_url
    token = stack.token(ADMIN, [WRITE_AUDIENCE, CHECK_AUDIENCE])
    run = subprocess.run(
        [
            str(ST),
            "run",
            f"{url}/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            "25",
            "--no-color",
            "-H",
            f"Authorization: Bearer {token}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = run.stdout[-20_000:] + run.stderr[-5_000:]
    assert run.returncode == 0, report
    tested = re.search(r"Tested: (\d+)", run.stdout)
    assert tested is not None, report
    assert int(tested.group(1)) >= (18 if service == "write" else 5), report
    assert "generated" in run.stdout, report


@pytest.mark.parametrize("service", ["write", "check"])
def test_the_docs_page_loads_its_assets_from_the_service(stack: Stack, service: str) -> None:
    url = stack.write_url if service == "write" else stack.check_url
    page = httpx.get(f"{url}/docs", timeout=10)
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
    scripts = [a for a in assets if a.endswith((".js", ".css"))]
    assert scripts, page.text
    for asset in scripts:
        assert asset.startswith("/"), f"{asset} is not served by the service"
        assert httpx.get(f"{url}{asset}", timeout=10).status_code == 200, asset

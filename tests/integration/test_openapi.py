"""The OpenAPI documents tell the truth, tried as a client generator would: schemathesis
runs every check it has (status codes, content types, headers and bodies documented;
schema-valid requests accepted, schema-violating ones refused; auth not ignored ...)
against both services, with conforming and non-conforming requests. (Driven from here:
its pytest plugin does not load under this pytest.) The docs pages need no internet."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from consentry_stack.stack import Stack
from tests.support.http import ADMIN

load_all_checks()
CHECK_NAMES = {check.__name__ for check in CHECKS.get_all()}
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                # schemathesis's own list, plus 413: a request refused for its size is
                # rejected (a bulk import of more than 10,000 generated items can be).
                "expected-statuses": [
                    *("400", "401", "403", "404", "405", "406", "409", "413", "415", "422"),
                    *("428", "429", "5xx"),
                ]
            }
        }
    }
)


def _outside_the_schema(case: Case[Any]) -> bool:
    """The two rules JSON Schema cannot say, told to the fuzzer instead (both are in the
    fields' descriptions and answered 422): a party cannot delegate to itself, and a
    window ends after it starts."""
    body = case.body if isinstance(case.body, dict) else {}
    if body.get("party") is not None and body.get("party") == body.get("delegate"):
        return True
    start, end = body.get("effective_from"), body.get("expires_at")
    if isinstance(start, str) and isinstance(end, str):
        try:
            return datetime.fromisoformat(end) <= datetime.fromisoformat(start)
        except ValueError:
            return False
    return False


def _conforms(
    operation: Any, mode: GenerationMode, headers: dict[str, str], checks: list[Any]
) -> Any:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def conforms(case: Case[Any]) -> None:
        if mode is GenerationMode.POSITIVE:
            if _outside_the_schema(case):
                return
            if case.headers and "Idempotency-Key" in case.headers:
                # Generated keys repeat across unrelated requests, which the API rightly
                # refuses (422, as the Idempotency-Key draft says).
                case.headers["Idempotency-Key"] = str(uuid.uuid4())
        case.call_and_validate(headers=headers, checks=checks, timeout=30)

    return conforms


@pytest.mark.parametrize("service", ["write", "check"])
def test_every_operation_conforms_to_its_document(stack: Stack, service: str) -> None:
    assert {"positive_data_acceptance", "negative_data_rejection", "ignored_auth"} <= CHECK_NAMES
    url = stack.write_url if service == "write" else stack.check_url
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", config=CONFIG)
    admin = stack.bearer(ADMIN)
    checks = [check for check in CHECKS.get_all() if not isinstance(check, type)]
    assert len(checks) >= 14, [c.__name__ for c in checks]
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= (9 if service == "write" else 4)
    for operation in operations:
        modes = [GenerationMode.POSITIVE]
        if operation.path_parameters or operation.query or operation.body:
            modes.append(GenerationMode.NEGATIVE)  # a probe without parameters has none
        for mode in modes:
            _conforms(operation, mode, admin, checks)()


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

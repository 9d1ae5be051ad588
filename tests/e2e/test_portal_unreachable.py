"""Issue 16: the portal never shows "saved" when the write API is out of reach (a real
browser, a portal of its own, and a proxy between it and the write API)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext

from consentry_stack.ports import free_port
from consentry_stack.processes import ManagedProcess
from consentry_stack.readiness import await_ready
from consentry_stack.stack import Stack
from tests.faults.proxy import FaultProxy, Mode
from tests.support.eventually import eventually
from tests.support.portal import catalogue, release_form


def decisions_of(stack: Stack, party: str) -> int:
    response = httpx.get(
        f"{stack.write_url}/v1/parties/{party}/history", headers=stack.bearer(party), timeout=10
    )
    assert response.status_code == 200, response.text
    return len(response.json()["decisions"])


@pytest.mark.e2e
def test_a_write_api_out_of_reach_is_never_shown_as_saved(
    stack: Stack, context: BrowserContext, tmp_path: Path
) -> None:
    """A portal of its own, reaching the write API through a proxy the test controls:
    an answer lost after the write arrived is said to be maybe recorded (and it was); a
    write API that cannot be reached at all is said to have saved nothing (and it did
    not). Neither shows a receipt."""
    label, upc, _ = catalogue(stack)
    proxy = FaultProxy(stack.write_port).start()
    url = f"http://127.0.0.1:{free_port()}"
    env = {
        **stack.service_env(),
        "CONSENTRY_PORTAL_WRITE_URL": f"http://127.0.0.1:{proxy.port}",
        "CONSENTRY_PORTAL_CHECK_URL": stack.check_url,
        "CONSENTRY_PORTAL_CHECK_TOKEN": stack.token("service:portal"),
        "CONSENTRY_PORTAL_STORE_URL": stack.store.url_for("portal"),
        "CONSENTRY_PORTAL_AUTH_PUBLIC_KEY_FILE": str(stack.public_key),
        "CONSENTRY_PORTAL_PORT": url.rsplit(":", 1)[1],
        "CONSENTRY_PORTAL_API_TIMEOUT_S": "2",
    }
    portal = ManagedProcess(
        "portal-cut", [sys.executable, "-m", "consentry_portal"], tmp_path / "portal.log", env=env
    )
    portal.start()
    try:
        await_ready(f"{url}/readyz", "portal", time.monotonic() + 30, [portal])
        page = context.new_page()
        page.goto(stack.login_link(label).replace(stack.portal_url, url))
        assert page.url == f"{url}/works"

        def opt_out() -> str:
            form = release_form(page, upc)
            form.get_by_label("Purpose").select_option("ai.training")
            form.get_by_label("Choice").select_option("deny")
            form.get_by_role("button", name="Save for this release").click()
            page.wait_for_selector("text=Consentry is unreachable", timeout=15_000)
            assert "/decisions/" not in page.url, "no receipt"
            return page.get_by_role("alert").inner_text()

        proxy.set(Mode.DROP_RESPONSES)
        assert "It may have been recorded" in opt_out()
        eventually(lambda: decisions_of(stack, label) == 1, 10, "the write that arrived")

        proxy.set(Mode.PASS)
        page.goto(f"{url}/works")
        proxy.stop()
        assert "Nothing was saved" in opt_out()
        time.sleep(1)
        assert decisions_of(stack, label) == 1, "nothing left the portal"
    finally:
        portal.stop()

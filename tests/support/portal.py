"""What the portal's browser tests share: a titled catalogue for a label, a page signed
in, the accessibility scan (with the page's screenshot), a release's form and saving it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page

from consentry_stack.stack import Stack
from tests.support.eventually import eventually
from tests.support.http import CATALOGUE, await_answer
from tests.support.ids import new_isrc, new_party, new_upc

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "portal"
SERIOUS = {"serious", "critical"}


def register(
    stack: Stack,
    isrc: str,
    upc: str,
    parties: list[str],
    title: str,
    release: str,
    contains_ai: str | None = None,
) -> None:
    body = {
        "isrc": isrc,
        "upc": upc,
        "parties": parties,
        "title": title,
        "release_title": release,
        "contains_ai": contains_ai,
    }
    response = httpx.post(
        f"{stack.write_url}/v1/tracks", json=body, headers=stack.bearer(CATALOGUE), timeout=10
    )
    assert response.status_code == 202, response.text


def catalogue(stack: Stack) -> tuple[str, str, list[str]]:
    """A label with a three-track release (and a second release); ready in the portal."""
    label, upc, other = new_party("label"), new_upc(), new_upc()
    isrcs = [new_isrc() for _ in range(3)]
    for n, isrc in enumerate(isrcs):
        register(stack, isrc, upc, [new_party(), label], f"Aurora part {n + 1}", "Aurora")
    register(stack, new_isrc(), other, [new_party(), label], "Midsummer", "Solstice")
    for isrc in isrcs:
        await_answer(stack, isrc, "ai.training", "allow")

    def indexed() -> bool:
        body = httpx.get(
            f"{stack.write_url}/v1/parties/{label}/works",
            headers=stack.bearer(label),
            timeout=10,
        ).json()
        return sum(len(r["tracks"]) for r in body["releases"]) == 4

    eventually(indexed, 20, "the label's works listed")
    return label, upc, isrcs


def accessible(page: Page, name: str) -> None:
    """No serious or critical axe-core violation; the page's screenshot kept, and what
    the scan reported (every violation, any impact) in ``<name>.axe.json`` beside it."""
    results = Axe().run(page)
    violations = results.response["violations"]
    serious = [v for v in violations if v.get("impact") in SERIOUS]
    assert not serious, f"{name}: " + "; ".join(f"{v['id']}: {v['help']}" for v in serious)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    report = {
        "axe": results.response["testEngine"]["version"],
        "rules_passed": len(results.response["passes"]),
        "violations": [
            {"id": v["id"], "impact": v.get("impact"), "nodes": len(v["nodes"])} for v in violations
        ],
        "incomplete": [v["id"] for v in results.response["incomplete"]],
    }
    (SCREENSHOTS / f"{name}.axe.json").write_text(json.dumps(report, indent=2) + "\n")


def release_form(page: Page, upc: str) -> Any:
    return page.locator("form.release").filter(has=page.locator(f"input[name=upc][value='{upc}']"))


def save_for_release(page: Page, upc: str, purpose: str, choice: str) -> None:
    """Choose ``purpose`` and ``choice`` in the release's own form and save it, as a
    person does; where the browser goes next is the caller's to check."""
    form = release_form(page, upc)
    form.get_by_label("Purpose").select_option(purpose)
    form.get_by_label("Choice").select_option(choice)
    form.get_by_role("button", name="Save for this release").click()


def signed_in(stack: Stack, context: BrowserContext, party: str) -> Page:
    """A new page of ``context`` that followed ``party``'s login link: the session cookie
    is set in ``context`` and the page is wherever the link led."""
    page = context.new_page()
    page.goto(stack.login_link(party))
    return page

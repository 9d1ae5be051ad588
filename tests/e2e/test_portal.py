"""Issue 16: the portal in a real browser (Debian's Chromium, driven by Playwright).

A label signs in with a login link, opts a release out of AI training, sees the receipt
with the enforcement time Consentry measured (and no figure a link can set), the check
service denies the release's
tracks within 5 s, and the label withdraws again; the history shows the chain intact.
Replayed links, forms without their CSRF token and another party's pages are refused.
Each main page passes an axe-core scan with no serious or critical violation, and its
screenshot is kept for the README (docs/portal/).
"""

from __future__ import annotations

import time
from typing import NamedTuple

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page

from consentry_stack.stack import Stack
from tests.support.eventually import eventually
from tests.support.http import await_answer, decide
from tests.support.ids import new_isrc, new_party, new_upc
from tests.support.portal import (
    accessible,
    catalogue,
    register,
    release_form,
    save_for_release,
    signed_in,
)


class LabelPage(NamedTuple):
    """A label with its catalogue (see ``catalogue``), signed in to the portal on ``page``."""

    label: str
    upc: str
    isrcs: list[str]
    page: Page


@pytest.fixture
def label_page(stack: Stack, context: BrowserContext) -> LabelPage:
    """Where most of these tests start: the label's works, in a browser."""
    label, upc, isrcs = catalogue(stack)
    return LabelPage(label, upc, isrcs, signed_in(stack, context, label))


@pytest.mark.e2e
def test_a_label_opts_a_release_out_and_back_in_through_the_portal(
    stack: Stack, context: BrowserContext, label_page: LabelPage
) -> None:
    label, upc, isrcs, page = label_page
    assert page.url == f"{stack.portal_url}/works", "the link leaves the address bar"
    cookie = next(c for c in context.cookies() if c["name"] == "consentry_session")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    assert page.get_by_text(f"Signed in as {label}").is_visible()
    assert page.get_by_role("cell", name="Aurora part 2", exact=True).is_visible()
    accessible(page, "works")

    form = release_form(page, upc)
    form.get_by_label("Purpose").select_option("ai.training")
    form.get_by_label("Choice").select_option("deny")
    started = time.monotonic()
    form.get_by_role("button", name="Save for this release").click()
    page.wait_for_url("**/decisions/**")
    enforced = page.locator("#enforced").inner_text()
    assert "ms after it was recorded, at the latest, as measured by Consentry" in enforced
    forged = page.goto(f"{page.url}&measured_ms=1&enforced_after_ms=1&token=forged")
    assert forged is not None
    assert forged.status == 200
    assert page.locator("#enforced").inner_text() == enforced, "a link cannot set the figure"
    assert "forged" not in page.content()
    for isrc in isrcs:
        await_answer(
            stack, isrc, "ai.training", "deny", timeout_s=max(0.1, 5 - (time.monotonic() - started))
        )
    page.wait_for_selector("text=Answers it changed", timeout=10_000)
    accessible(page, "receipt")

    page.goto(f"{stack.portal_url}/works?purpose=ai.training")
    assert release_form(page, upc).locator(".answer.deny").count() == 3
    save_for_release(page, upc, "ai.training", "withdrawn")
    page.wait_for_url("**/decisions/**")
    for isrc in isrcs:
        await_answer(stack, isrc, "ai.training", "allow")

    page.goto(f"{stack.portal_url}/history")
    assert "Hash chain intact, 2 events" in page.locator("#chain").inner_text()
    accessible(page, "history")


@pytest.mark.e2e
def test_the_portal_refuses_what_it_must(stack: Stack, context: BrowserContext) -> None:
    label, _, _ = catalogue(stack)
    stranger = new_party("label")
    theirs = decide(stack, stranger, "ai.dj", "deny", "party")
    link = stack.login_link(label)
    page = context.new_page()
    page.goto(link)
    assert page.url.endswith("/works")

    replayed = context.browser.new_context() if context.browser else None  # a second device
    assert replayed is not None
    again = replayed.new_page()
    response = again.goto(link)
    assert response is not None
    assert response.status == 403
    assert again.get_by_text("already used").is_visible()
    signed_out = again.goto(f"{stack.portal_url}/works")
    assert signed_out is not None
    assert signed_out.status == 401
    replayed.close()

    no_csrf = context.request.post(
        f"{stack.portal_url}/decide",
        form={"purpose": "ai.training", "choice": "deny", "scope": "party"},
    )
    assert no_csrf.status == 403
    assert "CSRF" in no_csrf.text()
    other = page.goto(f"{stack.portal_url}/decisions/{theirs['decision_id']}")
    assert other is not None

    def refused() -> bool:
        answer = page.goto(f"{stack.portal_url}/decisions/{theirs['decision_id']}")
        return answer is not None and answer.status in (403, 404)

    eventually(refused, 10, "another party's receipt refused")
    forged = page.goto(f"{stack.portal_url}/login?link=not-a-token")
    assert forged is not None
    assert forged.status == 403


@pytest.mark.e2e
def test_a_release_is_opted_out_with_the_keyboard_only(stack: Stack, label_page: LabelPage) -> None:
    """No mouse: Tab to the release's controls, choose with the arrow keys, Enter to save."""
    _, upc, isrcs, page = label_page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(200):  # past the search, the all-works form, the release's checkboxes
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == f"purpose-{upc}":
            break
    else:
        raise AssertionError("Tab never reached the release's purpose")
    while page.evaluate("document.activeElement.value") != "ai.training":
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")  # to Choice: the first choice is "Opt out (deny)"
    assert page.evaluate("document.activeElement.name") == "choice"
    assert page.evaluate("document.activeElement.value") == "deny"
    for _ in range(20):  # on to the release's own button, through the dates
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Save for this release":
            break
    else:
        raise AssertionError("Tab never reached 'Save for this release'")
    page.keyboard.press("Enter")
    page.wait_for_url("**/decisions/**")
    for isrc in isrcs:
        await_answer(stack, isrc, "ai.training", "deny")


@pytest.mark.e2e
def test_a_label_decides_for_an_artist_under_delegation_and_sees_it_marked(
    stack: Stack, context: BrowserContext
) -> None:
    label, _, _ = catalogue(stack)
    artist, upc, isrc = new_party(), new_upc(), new_isrc()
    register(stack, isrc, upc, [artist, label], "Northern song", "Delegated")
    grant = {"party": artist, "delegate": label, "purpose": "ai.training", "action": "grant"}
    granted = httpx.post(
        f"{stack.write_url}/v1/delegations", json=grant, headers=stack.bearer(artist), timeout=10
    )
    assert granted.status_code == 202, granted.text
    await_answer(stack, isrc, "ai.training", "allow")

    def indexed() -> bool:
        body = httpx.get(
            f"{stack.write_url}/v1/parties/{artist}/works", headers=stack.bearer(label), timeout=10
        ).json()
        return sum(len(r["tracks"]) for r in body["releases"]) == 1

    eventually(indexed, 20, "the artist's works listed")

    page = signed_in(stack, context, label)
    page.get_by_label("Deciding for").select_option(artist)
    page.get_by_role("button", name="Switch").click()
    assert "You are deciding for" in page.locator("#deciding-for").inner_text()
    accessible(page, "works-deciding-for")
    save_for_release(page, upc, "ai.dj", "deny")  # not delegated: the API refuses
    assert "Not saved" in page.get_by_role("alert").inner_text()
    save_for_release(page, upc, "ai.training", "deny")
    page.wait_for_url("**/decisions/**")
    await_answer(stack, isrc, "ai.training", "deny", timeout_s=5)
    stranger = page.goto(f"{stack.portal_url}/works?for={new_party()}")
    assert stranger is not None
    assert stranger.status == 403

    page.goto(f"{stack.portal_url}/history")
    assert f"{artist} lets you decide ai.training for them" in page.locator("ul.held").inner_text()
    rows = page.locator("#for-others tbody tr")
    assert rows.count() == 1
    row = rows.first.inner_text()
    for shown in (artist, upc, "deny", f"made for {artist} under delegation"):
        assert shown in row
    accessible(page, "history-label")

    theirs = context.browser.new_context() if context.browser else None
    assert theirs is not None
    mine = signed_in(stack, theirs, artist)
    mine.goto(f"{stack.portal_url}/history")
    assert "made for you under delegation" in mine.locator("table").first.inner_text()
    theirs.close()


@pytest.mark.e2e
def test_an_artist_states_ai_use_beside_what_the_label_delivered(
    stack: Stack, context: BrowserContext
) -> None:
    """Issue 24: the musician's own AI disclosure, on the page where it decides."""
    artist, label, upc = new_party("artist"), new_party("label"), new_upc()
    isrcs = [new_isrc() for _ in range(3)]
    for n, isrc in enumerate(isrcs):
        register(stack, isrc, upc, [artist, label], f"Tide {n + 1}", "Tides", contains_ai="none")
    for isrc in isrcs:
        await_answer(stack, isrc, "ai.training", "allow")
    eventually(lambda: len(_works_of(stack, artist)) == 3, 20, "the artist's works listed")
    page = signed_in(stack, context, artist)
    form = release_form(page, upc)
    for isrc in isrcs:
        assert page.locator(f"#ai-{isrc}").inner_text().startswith("no AI")
    assert "delivered: no AI; you stated: nothing" in page.locator(f"#ai-{isrcs[0]}").inner_text()

    for isrc in isrcs[:2]:
        form.locator(f"#pick-{isrc}").check()
    form.get_by_label("AI used").select_option("partly")
    form.get_by_label("Vocalist").check()
    form.get_by_role("button", name="State AI use for the chosen tracks").click()
    page.wait_for_url("**/works?**")
    assert (
        "AI disclosure stated as partly AI for 2 track(s)."
        in page.get_by_role("status").inner_text()
    )
    for isrc in isrcs[:2]:
        cell = page.locator(f"#ai-{isrc}").inner_text()
        assert cell.startswith("partly AI"), cell
        assert "you stated: partly AI" in cell, cell
    assert page.locator(f"#ai-{isrcs[2]}").inner_text().startswith("no AI")
    accessible(page, "works-disclosure")
    shown = httpx.get(
        f"{stack.write_url}/v1/tracks/{isrcs[0]}/disclosure",
        headers=stack.bearer(artist),
        timeout=10,
    ).json()
    assert shown == {
        "isrc": isrcs[0],
        "disclosure": "partly",
        "delivered": "none",
        "stated": {artist: "partly"},
    }

    form = release_form(page, upc)
    form.locator(f"#pick-{isrcs[0]}").check()
    form.get_by_label("AI used").select_option("withdraw")
    form.get_by_role("button", name="State AI use for the chosen tracks").click()
    page.wait_for_url("**/works?**")
    assert "withdrawn for 1 track(s)" in page.get_by_role("status").inner_text()
    assert page.locator(f"#ai-{isrcs[0]}").inner_text().startswith("no AI")
    assert page.locator(f"#ai-{isrcs[1]}").inner_text().startswith("partly AI")


def _works_of(stack: Stack, party: str) -> list[str]:
    body = httpx.get(
        f"{stack.write_url}/v1/parties/{party}/works", headers=stack.bearer(party), timeout=10
    ).json()
    return [t["isrc"] for r in body["releases"] for t in r["tracks"]]

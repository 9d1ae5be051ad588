"""Issue 25: the portal's "AI use and earnings" page in a real browser. A label whose
co-holder opted out of AI training sees its use per purpose over months as a chart (an
inline SVG with its words and the table behind it), the use made after the opt-out as a
violation, and its statement to download -- its own lines only. axe-clean, like every
page of the portal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext

from consentry_stack.stack import Stack
from tests.support.eventually import eventually
from tests.support.http import await_answer, decide, register
from tests.support.ids import new_isrc, new_party, new_upc
from tests.support.portal import accessible, signed_in
from tests.support.usage import POOLS, await_units, report, settle, use


@pytest.mark.e2e
def test_a_label_reads_its_ai_use_violations_and_statement_in_the_portal(
    stack: Stack, context: BrowserContext, tmp_path: Path
) -> None:
    artist, label, isrc = new_party(), new_party("label"), new_isrc()
    register(stack, isrc, new_upc(), [artist, label])
    await_answer(stack, isrc, "ai.training", "allow")
    before = datetime.now(UTC)
    eventually(lambda: datetime.now(UTC) - before > timedelta(milliseconds=2), 1, "time passes")
    decide(stack, artist, "ai.training", "deny", "party")
    after = datetime.now(UTC)
    await_answer(stack, isrc, "ai.training", "deny")
    dj = use("dj-1", isrc, after, "180", purpose="ai.dj", unit_kind="seconds_played")
    sent = report(stack, [use("t-before", isrc, before, "2"), use("t-after", isrc, after), dj])
    assert sent.status_code == 202, sent.text
    await_units(stack, label, after, allowed="2", violations="1")
    await_units(stack, label, after, allowed="180", violations="0", purpose="ai.dj")
    period = f"{after:%Y-%m}"
    pools = tmp_path / "pools.toml"
    pools.write_text(POOLS)
    store = stack.store.url_for("settle")
    settle(stack, period, pools, tmp_path / "out", "--publish", "--store", store)

    page = signed_in(stack, context, label)
    page.get_by_role("link", name="AI use and earnings").click()
    page.wait_for_url("**/earnings")
    assert page.get_by_role("heading", name="AI use and earnings", level=1).is_visible()
    charts = page.get_by_role("img", name="Units of seconds_played per month and purpose")
    assert charts.is_visible()
    assert page.locator("svg rect title", has_text=f"{period}, ai.dj: 180 seconds_played").count()
    assert "the most was 180 for ai.dj" in (page.locator("svg desc").first.text_content() or "")
    usage = page.locator("#usage")
    assert usage.get_by_role("row").filter(has_text="ai.training").first.is_visible()
    violations = page.locator("#violations").get_by_role("row").filter(has_text=isrc)
    assert violations.count() == 1, "the use after the opt-out, not the one before it"
    assert violations.filter(has_text="ai.training").is_visible()
    row = page.locator("#statements").get_by_role("row").filter(has_text="training")
    assert row.filter(has_text=period).is_visible()
    accessible(page, "earnings")

    with page.expect_download() as fetched:
        row.get_by_role("link", name=f"CSV of training, {period}").click()
    downloaded = Path(fetched.value.path()).read_text()
    assert downloaded.startswith("party,isrc,side,exact,uses,payout,currency\n")
    assert f"{label},{isrc}," in downloaded
    assert artist not in downloaded, "the co-holder's lines and payout are not the label's"

    # Another party signed in sees no statement of the label's: there is none for it.
    stranger = signed_in(stack, context, new_party())
    refused = stranger.goto(f"{stack.portal_url}/earnings/statements/{period}/training.csv")
    assert refused is not None
    assert refused.status == 404

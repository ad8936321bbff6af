"""The overview in Debian's Chromium (Playwright): log in, charts drawn, switch to English, screenshot.

The app runs under uvicorn in a background thread on a free port, against a SQLite file holding the
test branch. Screenshots land in test-artifacts/overview.png (English) and overview-zh.png (git-ignored)
for a human to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from wealthcrm.config import Settings
from wealthcrm.db import make_engine
from wealthcrm.web import create_app

from .branch import PASSWORD, load_branch
from .browser import ARTIFACTS, BROWSER_MARKS, browser_page, chart_size, serve

pytestmark = BROWSER_MARKS


@pytest.fixture
def server(tmp_path: Path, settings: Settings, sqlite_template: Path) -> Iterator[str]:
    """The base URL of the app served by uvicorn in a thread, with the test branch loaded."""
    path = tmp_path / "browser.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    load_branch(engine, settings, tmp_path / "branch")
    try:
        with serve(create_app(settings, engine)) as url:
            yield url
    finally:
        engine.dispose()


def test_overview_in_the_browser(server: str) -> None:
    problems: list[str] = []
    with browser_page(problems) as page:
        page.goto(f"{server}/")
        assert urlparse(page.url).path == "/login"
        page.fill("#username", "boss")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server}/")
        assert page.locator("h1").first.inner_text() == "支行概览"

        for chart in ("tier-chart", "migration-chart"):
            size = chart_size(page, chart)
            assert size["width"] > 0 and size["height"] > 0, (chart, size)
            assert size["series"] >= 1, (chart, size)

        page.wait_for_timeout(700)  # let the charts' entry animation finish before the picture
        page.screenshot(path=str(ARTIFACTS / "overview-zh.png"), full_page=True)

        page.click("a[hreflang=en]")
        page.wait_for_selector("html[lang=en]")
        assert page.locator("h1").first.inner_text() == "Branch overview"
        assert page.locator("#tier-table tfoot tr").inner_text().split("\t") == [
            "Total",
            "3",
            "100.0%",
            "¥6,900,000",
            "100.0%",
        ]
        for chart in ("tier-chart", "migration-chart"):
            assert chart_size(page, chart)["width"] > 0
        page.wait_for_timeout(700)  # let the charts' entry animation finish before the picture
        page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)
    assert problems == []
    assert (ARTIFACTS / "overview.png").stat().st_size > 10_000

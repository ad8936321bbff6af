"""The RM workbench in Debian's Chromium (Playwright): an RM logs in, sees Today, opens a customer's
360 page with its charts drawn. Screenshots: test-artifacts/today.png and customer360.png."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from wealthcrm.config import Settings
from wealthcrm.db import make_engine
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date

from ..customers.workbench import MOBILE, NATIONAL_ID, PASSWORD, load_workbench
from .browser import ARTIFACTS, BROWSER_MARKS, browser_page, chart_size, serve

pytestmark = BROWSER_MARKS


@pytest.fixture
def server(tmp_path: Path, settings: Settings, sqlite_template: Path) -> Iterator[str]:
    path = tmp_path / "browser.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    load_workbench(engine, settings, tmp_path / "branch")
    app = create_app(settings, engine)
    app.dependency_overrides[current_date] = lambda: date(2026, 11, 28)
    try:
        with serve(app) as url:
            yield url
    finally:
        engine.dispose()


def test_an_rm_works_from_today_to_a_customer(server: str) -> None:
    problems: list[str] = []
    with browser_page(problems) as page:
        page.goto(f"{server}/")
        page.fill("#username", "rm01")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server}/today")
        assert page.locator("h1").first.inner_text() == "今日待办"
        rows = page.locator("#risk-table tbody tr")
        assert [rows.nth(i).get_attribute("data-customer") for i in range(rows.count())] == [
            "C003",
            "C001",
        ]
        page.screenshot(path=str(ARTIFACTS / "today.png"), full_page=True)

        page.click("#risk-table a[href='/customers/C001']")
        page.wait_for_url(f"{server}/customers/C001")
        assert page.locator("[data-field=national_id]").inner_text() == "110105********002X"
        for chart in ("aum-chart", "tier-chart", "risk-chart"):
            size = chart_size(page, chart)
            assert size["width"] > 0 and size["height"] > 0 and size["series"] >= 1, (chart, size)
        content = page.content()
        assert NATIONAL_ID not in content and MOBILE not in content
        page.wait_for_timeout(700)  # let the charts' entry animation finish before the picture
        page.screenshot(path=str(ARTIFACTS / "customer360.png"), full_page=True)

        # another RM's customer by URL: the 404 page, not their data
        response = page.goto(f"{server}/customers/C004")
        assert response is not None and response.status == 404
        assert "周四" not in page.content()
    assert problems == [] or all("404" in p for p in problems), problems

"""The monthly report in Debian's Chromium (Playwright): the standalone HTML file opened from disk in
both languages draws every chart with the inlined ECharts and asks nothing of any server; the web page
does the same under the app's Content-Security-Policy, and its language switch works. Screenshots:
test-artifacts/monthly-report-zh.png, monthly-report-en.png and monthly-report-page.png."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from wealthcrm.config import Settings
from wealthcrm.db import make_engine, session_scope
from wealthcrm.reports import monthly
from wealthcrm.reports.files import write_files
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date

from ..reports.data import OCT, PASSWORD, load_report_branch
from .browser import ARTIFACTS, BROWSER_MARKS, browser_page, chart_size, serve

pytestmark = BROWSER_MARKS
CHARTS = [
    "chart-tiers_customers",
    "chart-tiers_aum",
    "chart-trend",
    "chart-ahead",
    "chart-sla",
    "chart-risk_adjusted_retention",
]


@pytest.fixture
def database(tmp_path: Path, settings: Settings, sqlite_template: Path) -> str:
    path = tmp_path / "browser.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with session_scope(engine) as session:
        load_report_branch(session, with_users=True)
    engine.dispose()
    return f"sqlite:///{path}"


@pytest.fixture
def files(database: str, settings: Settings, tmp_path: Path) -> Path:
    engine = make_engine(database)
    with session_scope(engine) as session:
        report = monthly.build(session, month=OCT, settings=settings, today=date(2026, 11, 2))
    engine.dispose()
    write_files(report, tmp_path / "out", ["zh_CN", "en"])
    return tmp_path / "out"


@pytest.mark.parametrize(
    ("lang", "title", "shot"),
    [("zh_CN", "经营月报 · 2026-10", "zh"), ("en", "Monthly management report · 2026-10", "en")],
)
def test_the_html_file_draws_every_chart_offline(files: Path, lang: str, title: str, shot: str) -> None:
    problems: list[str] = []
    with browser_page(problems) as page:
        page.goto((files / lang / "report.html").as_uri())
        assert page.locator("h1").first.inner_text() == title
        for chart in CHARTS:
            size = chart_size(page, chart)
            assert size["width"] > 200 and size["height"] > 150, chart
            assert size["series"] >= 1, chart
        trend = chart_size(page, "chart-trend")
        assert trend["series"] == 2  # customer losses and saves
        page.screenshot(path=str(ARTIFACTS / f"monthly-report-{shot}.png"), full_page=True)
    assert problems == []


def test_the_web_page_draws_the_report_and_switches_language(database: str, settings: Settings) -> None:
    engine = make_engine(database)
    app = create_app(settings, engine)
    app.dependency_overrides[current_date] = lambda: date(2026, 11, 2)
    problems: list[str] = []
    try:
        with serve(app) as url, browser_page(problems) as page:
            page.goto(f"{url}/")
            page.fill("#username", "boss")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            page.click("nav.mainnav a[href='/reports/monthly']")
            page.wait_for_url(f"{url}/reports/monthly")
            assert page.locator("article.mr h1").inner_text() == "经营月报 · 2026-10"
            for chart in CHARTS:
                assert chart_size(page, chart)["width"] > 200, chart
            downloads = page.locator("[data-testid=downloads] a")
            assert downloads.count() == 6
            page.screenshot(path=str(ARTIFACTS / "monthly-report-page.png"), full_page=True)
            page.click("a[hreflang=en]")
            page.wait_for_url(f"{url}/reports/monthly")
            assert page.locator("article.mr h1").inner_text() == "Monthly management report · 2026-10"
            assert chart_size(page, "chart-ahead")["series"] == 1
            with page.expect_download() as info:
                page.click("[data-testid=downloads] a[data-format=pdf][data-lang=en]")
            assert info.value.suggested_filename == "monthly-report-2026-10-en.pdf"
    finally:
        engine.dispose()
    assert problems == []

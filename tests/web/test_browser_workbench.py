"""The RM workbench in Debian's Chromium (Playwright): an RM logs in, works a task from Today (logs the
contact with its outcome, sees the row close), switches language, opens the customer's 360 page with
its charts, tasks panel and the contact on the timeline, is refused another RM's customer by URL, and
compliance then finds that attempt in the audit log. Screenshots: test-artifacts/today.png and
customer360.png (the harness's ARTIFACTS folder)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from wealthcrm.config import Settings
from wealthcrm.db import make_engine, session_scope
from wealthcrm.tasks.service import generate
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date
from wealthcrm.web.routes.tasks import local_now

from ..customers.workbench import MOBILE, NATIONAL_ID, PASSWORD, load_workbench
from .browser import ARTIFACTS, BROWSER_MARKS, browser_page, chart_size, serve

pytestmark = BROWSER_MARKS
TODAY = date(2026, 11, 28)


@pytest.fixture
def server(tmp_path: Path, settings: Settings, sqlite_template: Path) -> Iterator[str]:
    path = tmp_path / "browser.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    load_workbench(engine, settings, tmp_path / "branch")
    with session_scope(engine) as session:
        generate(session, on=TODAY, settings=settings)
    app = create_app(settings, engine)
    app.dependency_overrides[current_date] = lambda: TODAY
    app.dependency_overrides[local_now] = lambda: datetime(2026, 11, 28, 17, 45)
    try:
        with serve(app) as url:
            yield url
    finally:
        engine.dispose()


def test_an_rm_works_a_task_from_today_to_the_customer(server: str) -> None:
    problems: list[str] = []
    with browser_page(problems) as page:
        page.goto(f"{server}/")
        page.fill("#username", "rm01")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server}/today")
        assert page.locator("h1").first.inner_text() == "今日待办"
        rows = page.locator("#task-table tbody[data-task]")
        listed = [
            (rows.nth(i).get_attribute("data-customer"), rows.nth(i).get_attribute("data-kind"))
            for i in range(rows.count())
        ]
        assert listed == [
            ("C003", "retention"),
            ("C003", "cadence"),
            ("C001", "retention"),
            ("C001", "survey_recovery"),
            ("C001", "cadence"),
        ]

        # work C001's retention task: log the call with its outcome; the row closes in place
        row = page.locator("#task-table tbody[data-customer=C001][data-kind=retention]")
        task_id = row.get_attribute("data-task")
        row.locator("button[data-action=log]").click()
        form = row.locator("form[data-testid=contact-form]")
        form.wait_for()
        assert form.locator("select[name=purpose]").input_value() == "retention"
        form.locator("select[name=outcome]").select_option("retained")
        form.locator("textarea[name=notes]").fill("客户同意保留资产，下周面谈")
        form.locator("input[name=follow_up_on]").fill("2026-12-03")
        page.screenshot(path=str(ARTIFACTS / "today-contact-form.png"), full_page=True)
        form.locator("button[data-action=save-contact]").click()
        worked = page.locator(f"#task-{task_id}[data-status=done]")
        worked.wait_for()
        assert "已记录联系，任务完成：已挽留" in worked.inner_text()
        assert page.url == f"{server}/today"  # no reload: htmx swapped the row

        # snooze C003's cadence task for 3 days
        cadence = page.locator("#task-table tbody[data-customer=C003][data-kind=cadence]")
        cadence_id = cadence.get_attribute("data-task")
        cadence.locator("select[name=days]").select_option("3")
        cadence.locator("button[data-action=snooze]").click()
        page.locator(f"#task-{cadence_id}[data-status=snoozed]").wait_for()

        # switch to English: the list has the contact's effects (retention done, cadence met, follow-up)
        page.click("a[hreflang=en]")
        page.wait_for_url(f"{server}/today")
        assert page.locator("h1").first.inner_text() == "Today"
        rows = page.locator("#task-table tbody[data-task]")
        kinds = [
            (rows.nth(i).get_attribute("data-customer"), rows.nth(i).get_attribute("data-kind"))
            for i in range(rows.count())
        ]
        assert kinds == [("C003", "retention"), ("C001", "survey_recovery"), ("C001", "follow_up")]
        assert page.locator("[data-kpi=open-tasks] .kpi-value").inner_text() == "3"
        assert "Retention" in rows.nth(0).inner_text() and "Due today" in rows.nth(0).inner_text()
        page.screenshot(path=str(ARTIFACTS / "today.png"), full_page=True)

        page.click("#task-table a[href='/customers/C001']")
        page.wait_for_url(f"{server}/customers/C001")
        assert (
            page.locator("[data-field=national_id], #pii-national_id").first.inner_text().startswith("110105")
        )
        for chart in ("aum-chart", "tier-chart", "risk-chart"):
            size = chart_size(page, chart)
            assert size["width"] > 0 and size["height"] > 0 and size["series"] >= 1, (chart, size)
        panel = page.locator("#tasks-panel")
        panel.wait_for()
        assert panel.locator("tbody[data-task]").count() == 2
        first_contact = page.locator("#interactions-table tbody tr").first
        assert "Logged in app" in first_contact.inner_text()
        assert "客户同意保留资产，下周面谈" in first_contact.inner_text()
        content = page.content()
        assert NATIONAL_ID not in content and MOBILE not in content
        page.wait_for_timeout(700)  # let the charts' entry animation finish before the picture
        page.screenshot(path=str(ARTIFACTS / "customer360.png"), full_page=True)

        # another RM's customer by URL: the 404 page, not their data
        response = page.goto(f"{server}/customers/C004")
        assert response is not None and response.status == 404
        assert "周四" not in page.content()

        # compliance sees that attempt in the audit log
        page.click("form.logout button[type=submit]")
        page.fill("#username", "audit")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{server}/audit?action=access_denied")
        denied = page.locator("#audit-table tbody tr[data-action=access_denied]")
        assert denied.count() == 1
        cells = denied.first.locator("td")
        assert (cells.nth(2).inner_text().split()[0], cells.nth(4).inner_text()) == ("rm01", "C004")
        assert "/customers/C004" in cells.nth(6).inner_text()
        assert page.locator("[data-testid=chain]").get_attribute("data-ok") == "true"
        page.screenshot(path=str(ARTIFACTS / "audit.png"), full_page=True)
    assert problems == [] or all("404" in p for p in problems), problems

"""The service process in Debian's Chromium (Playwright): service staff look a sunflower customer up and
log a complaint at the desk; the customer's RM finds the follow-up on Today; the desk works the
complaint to resolved and closes it with the customer's rating; the branch manager's service dashboard
counts it, charts drawn. Screenshots: test-artifacts/service-request.png and service-dashboard.png."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page

from wealthcrm.config import Settings
from wealthcrm.db import make_engine, session_scope
from wealthcrm.tasks.service import generate
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date
from wealthcrm.web.routes.service_common import service_now
from wealthcrm.web.routes.tasks import local_now

from ..customers.workbench import MOBILE, NATIONAL_ID, PASSWORD, load_workbench
from .browser import ARTIFACTS, BROWSER_MARKS, browser_page, chart_size, serve
from .service_fixtures import active

pytestmark = BROWSER_MARKS
TODAY = date(2026, 11, 28)
#: Saturday 28 November 2026, 10:00 in Beijing: the SLA clock starts on Monday
NOW = datetime(2026, 11, 28, 2, 0)


@pytest.fixture
def server(tmp_path: Path, settings: Settings, sqlite_template: Path) -> Iterator[str]:
    path = tmp_path / "browser.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    load_workbench(engine, settings, tmp_path / "branch")
    with session_scope(engine) as session:
        active(session, "S003")
        generate(session, on=TODAY, settings=settings)
    app = create_app(settings, engine)
    app.dependency_overrides[current_date] = lambda: TODAY
    app.dependency_overrides[local_now] = lambda: datetime(2026, 11, 28, 10, 0)
    app.dependency_overrides[service_now] = lambda: NOW
    try:
        with serve(app) as url:
            yield url
    finally:
        engine.dispose()


def _log_in(page: Page, server: str, username: str) -> None:
    page.goto(f"{server}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _log_out(page: Page) -> None:
    page.click("form.logout button[type=submit]")
    page.wait_for_selector("#username")


def _act(page: Page, action: str, status: str) -> None:
    page.locator(f"form[data-action={action}] button[type=submit]").click()
    page.locator(f"#request-panel[data-status={status}]").wait_for()


def test_a_complaint_from_the_desk_to_the_dashboard(server: str) -> None:
    problems: list[str] = []
    with browser_page(problems) as page:
        # the desk looks the customer up (audited), then logs the complaint
        _log_in(page, server, "svc")
        page.goto(f"{server}/lookup")
        page.fill("#l-customer", "C001")
        page.fill("#l-reason", "客户到柜台投诉，排队号 A023")
        page.click("#lookup-form button[type=submit]")
        page.locator("#found a[data-customer=C001]").wait_for()
        page.click("nav.mainnav a[href='/service']")
        page.wait_for_url(f"{server}/service")
        form = page.locator("#new-request")
        form.locator("select[name=customer_id]").select_option("C001")
        form.locator("select[name=request_type]").select_option("complaint")
        form.locator("select[name=channel]").select_option("branch")
        form.locator("select[name=priority]").select_option("high")
        form.locator("textarea[name=summary]").fill("理财赎回到账延迟三天，客户要求说明原因")
        form.locator("button[data-action=log-request]").click()
        page.wait_for_url(f"{server}/service/requests/*")
        request_id = page.url.split("/")[-1].split("?")[0]
        assert page.locator("[data-testid=state]").inner_text() == "新建"
        # Saturday: 16 business hours from Monday 09:00 → Tuesday 17:00
        assert page.locator("[data-testid=due]").inner_text() == "2026-12-01 17:00"
        assert page.locator("[data-field=mobile]").inner_text() == "138****5678"
        _log_out(page)

        # the customer's RM sees the follow-up on Today at once
        _log_in(page, server, "rm01")
        page.wait_for_url(f"{server}/today")
        task = page.locator("#task-table tbody[data-customer=C001][data-kind=service_followup]")
        task.wait_for()
        assert f"投诉 {request_id} 自 2026-11-28 起未结" in task.inner_text()
        page.click("nav.mainnav a[href='/service/mine']")
        assert page.locator(f"#queue-table tr[data-request={request_id}]").count() == 1
        _log_out(page)

        # the desk works it: acknowledge, start, resolve with the root cause, close with the rating
        _log_in(page, server, "svc")
        page.goto(f"{server}/service")
        page.click(f"#queue-table tr[data-request={request_id}] a")
        page.wait_for_url(f"{server}/service/requests/{request_id}")
        _act(page, "acknowledge", "acknowledged")
        _act(page, "start", "in_progress")
        page.locator("form[data-action=resolve] select[name=root_cause]").select_option("transfer_delay")
        page.locator("form[data-action=resolve] input[name=note]").fill("已协调清算中心加急到账")
        _act(page, "resolve", "resolved")
        page.locator("form[data-action=close] select[name=rating]").select_option("5")
        _act(page, "close", "closed")
        assert page.url == f"{server}/service/requests/{request_id}"  # htmx swapped the panel in place
        assert page.locator("[data-testid=rating]").inner_text() == "5"
        assert page.locator("[data-testid=root-cause]").inner_text() == "转账延迟"
        events = page.locator("#events-table tbody tr")
        assert [events.nth(i).get_attribute("data-action") for i in range(events.count())] == [
            None,
            "acknowledge",
            "start",
            "resolve",
            "close",
        ]
        content = page.content()
        assert NATIONAL_ID not in content and MOBILE not in content
        page.screenshot(path=str(ARTIFACTS / "service-request.png"), full_page=True)
        _log_out(page)

        # the branch manager's dashboard counts it (with the imported R1 of October, resolved late)
        _log_in(page, server, "boss")
        page.click("nav.mainnav a[href='/service/dashboard']")
        page.wait_for_url(f"{server}/service/dashboard")
        complaint = page.locator("#sla-type-table tr[data-key=complaint] td")
        assert [complaint.nth(i).inner_text() for i in range(complaint.count())] == [
            "2", "1", "1", "0", "50.0%", "3.50",
        ]  # fmt: skip
        november = page.locator("#complaints-table tr[data-month='2026-11'] td")
        assert [november.nth(i).inner_text() for i in range(november.count())] == ["1", "1", "1", "0", "5.00"]
        assert page.locator("#causes-table tr[data-cause=transfer_delay] td").first.inner_text() == "1"
        charts = ("sla-type-chart", "sla-tier-chart", "sla-team-chart", "ageing-chart", "complaints-chart")
        for chart in (*charts, "causes-chart"):
            size = chart_size(page, chart)
            assert size["width"] > 0 and size["height"] > 0 and size["series"] >= 1, (chart, size)
        page.wait_for_timeout(700)  # let the charts' entry animation finish before the picture
        page.screenshot(path=str(ARTIFACTS / "service-dashboard.png"), full_page=True)
        page.click("a[hreflang=en]")
        page.wait_for_url(f"{server}/service/dashboard")
        assert page.locator("h1").first.inner_text() == "Service dashboard"
        assert chart_size(page, "sla-type-chart")["series"] == 3
    assert problems == [], problems

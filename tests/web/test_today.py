"""Today (the RM's home): one task list in the caller's scope (retention rows are the at-risk customers),
the alerts outside it, the team lead's RM picker; the risk-list and customer-list APIs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from wealthcrm.config import Settings
from wealthcrm.customers.pseudonym import pseudonymiser_for
from wealthcrm.db import session_scope
from wealthcrm.tasks.service import generate
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date

from ..customers.test_scope import SCOPE
from ..customers.workbench import MOBILE, NATIONAL_ID, load_workbench
from .conftest import TestClient, log_in
from .html import by_id, parse

TODAY = date(2026, 11, 28)


@pytest.fixture
def branch(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    """The workbench's branch (overrides the web tests' plainer one) and the tasks of 2026-11-28."""
    load_workbench(engine, settings, tmp_path / "branch")
    with session_scope(engine) as session:
        generate(session, on=TODAY, settings=settings)
    return engine


@pytest.fixture
def app(branch: Engine, settings: Settings) -> FastAPI:
    application = create_app(settings, branch)
    application.dependency_overrides[current_date] = lambda: TODAY
    return application


def _kpis(html: str) -> dict[str, str]:
    return {n.attrs["data-kpi"] or "": n.text() for n in parse(html).iter("div") if "data-kpi" in n.attrs}


def _task_rows(html: str) -> list[list[str]]:
    """The task table's main rows: #, customer, task, why, amount (the actions cell left out)."""
    table = parse(html).find(id="task-table")
    if table is None:
        return []
    return [r[:5] for r in table.table()[1:] if len(r) > 1]


def _task_customers(html: str) -> list[tuple[str, str]]:
    return [
        (n.attrs["data-customer"] or "", n.attrs["data-kind"] or "")
        for n in parse(html).iter("tbody")
        if "data-task" in n.attrs
    ]


def test_an_rm_lands_on_today(client: TestClient) -> None:
    log_in(client, "rm01")
    home = client.get("/", follow_redirects=False)
    assert (home.status_code, home.headers["location"]) == (303, "/today")
    boss = TestClient(client.app)
    log_in(boss, "boss")
    assert boss.get("/", follow_redirects=False).status_code == 200


def test_today_of_an_rm_in_chinese(client: TestClient) -> None:
    log_in(client, "rm01")
    html = client.get("/today").text
    assert _kpis(html) == {
        "open-tasks": "待办任务 5",
        "overdue": "已逾期 0",
        "at-risk": "风险客户 2",
        "aum-at-risk": "风险资产 109.80 万元",
        "open-alerts": "未处理预警 1",
    }
    # one list: the at-risk customers are its retention rows, by amount at stake, then the kind
    assert _task_rows(html) == [
        [
            "1",
            "张三 C003",
            "挽留 今日到期",
            "风险资产 72.00 万元（流失概率 12.0%） 钻石 · 考察期",
            "72.00 万元",
        ],
        ["2", "张三 C003", "例行联系 今日到期", "从未联系：钻石客户应每 14 天联系一次", "72.00 万元"],
        [
            "3",
            "陈一 C001",
            "挽留 今日到期",
            "风险资产 37.80 万元（流失概率 42.0%） 金葵花 · 退化期 近3个月资产下降44% 30.00 万元转出至他行 "
            "高 大额转出 致电客户了解资金去向，介绍在行内的替代安排",
            "37.80 万元",
        ],
        [
            "4",
            "陈一 C001",
            "问卷贬损者 今日到期",
            "调查贬损者（2026-10-20 NPS 3 分）：回访了解不满原因",
            "37.80 万元",
        ],
        ["5", "陈一 C001", "例行联系 今日到期", "已 56 天未联系：金葵花客户应每 30 天联系一次", "37.80 万元"],
    ]
    assert parse(html).find(id="other-alerts") is None  # C001's alert is in its retention row
    assert "周四" not in html and "刘二" not in html  # other books
    assert NATIONAL_ID not in html and MOBILE not in html
    assert parse(html).find(href="/customers/C001") is not None
    assert parse(html).find(data_testid="rm-picker") is None  # an RM has one list


def test_today_of_the_manager_in_english_shows_alerts_outside_the_list(client: TestClient) -> None:
    log_in(client, "boss")
    client.get("/lang/en")
    html = client.get("/today").text
    assert _kpis(html) == {
        "open-tasks": "Open tasks 8",
        "overdue": "Overdue 0",
        "at-risk": "Customers at risk 3",
        "aum-at-risk": "AUM at risk ¥1,698,000",
        "open-alerts": "Open alerts 3",
    }
    rows = _task_rows(html)
    # the whole branch: each row names the RM whose list it is on
    assert [r[1] for r in rows] == [
        "张三 C003 王经理",
        "张三 C003 王经理",
        "周四 C004 赵经理",
        "周四 C004 赵经理",
        "周四 C004 赵经理",
        "陈一 C001 王经理",
        "陈一 C001 王经理",
        "陈一 C001 王经理",
    ]
    assert rows[2][2:] == [
        "Retention Due today",
        "AUM at risk ¥600,000 (probability of loss 30.0%) Sunflower · Mature Medium Payroll credit stopped "
        "Ask whether the salary moved to another bank or the job changed",
        "¥600,000",
    ]
    assert rows[3][2:] == [
        "Risk assessment Due today",
        "No risk assessment on record: invite the customer to complete one",
        "¥600,000",
    ]
    assert rows[5][3].startswith("AUM at risk ¥378,000 (probability of loss 42.0%) Sunflower · Declining ")
    assert "AUM down 44% in 3 months ¥300,000 moved to other banks" in rows[5][3]
    assert by_id(html, "other-alerts").table() == [
        ["Customer", "Severity", "Alert", "Since", "Suggested action"],
        ["刘二 C002", "High", "On watch", "2026-10", "Make a retention call before the downgrade"],
    ]


#: username → the (customer, kind) of each task row on Today
LISTED = {
    "rm01": ["C003", "C003", "C001", "C001", "C001"],
    "rm02": ["C004", "C004", "C004"],
    "lead": ["C003", "C003", "C001", "C001", "C001"],
    "boss": ["C003", "C003", "C004", "C004", "C004", "C001", "C001", "C001"],
    "audit": ["C003", "C003", "C004", "C004", "C004", "C001", "C001", "C001"],
    "svc": [],
}


@pytest.mark.parametrize(
    ("username", "listed", "others", "acts"),
    [
        ("rm01", ["C003", "C001"], [], True),
        ("rm02", ["C004"], [], True),
        ("lead", ["C003", "C001"], ["C002"], True),
        ("boss", ["C003", "C004", "C001"], ["C002"], False),  # reads the lists, does not work them
        ("audit", ["C003", "C004", "C001"], ["C002"], False),
        ("svc", [], [], False),
    ],
)
def test_today_holds_the_scope_on_page_and_api(
    client: TestClient, username: str, listed: list[str], others: list[str], acts: bool
) -> None:
    log_in(client, username)
    html = client.get("/today").text
    assert [c for c, _ in _task_customers(html)] == LISTED[username]
    table = parse(html).find(id="other-alerts")
    assert ([] if table is None else [r[0].split()[-1] for r in table.table()[1:]]) == others
    api = client.get("/api/v1/today").json()
    assert [c["customer_id"] for c in api["customers"]] == listed
    assert [a["customer_id"] for a in api["other_alerts"]] == others
    buttons = [n for n in parse(html).iter("button") if n.attrs.get("data-action") == "log"]
    assert len(buttons) == (len(LISTED[username]) if acts else 0)
    if not LISTED[username]:
        assert parse(html).find(data_testid="no-tasks") is not None


def test_a_team_lead_picks_an_rm_of_the_team(client: TestClient) -> None:
    log_in(client, "lead")
    html = client.get("/today").text
    picker = parse(html).find(data_testid="rm-picker")
    assert picker is not None
    options = [(o.attrs["value"], o.text()) for o in picker.iter("option")]
    assert options == [("", "全组"), ("S001", "王经理"), ("S002", "李主管")]
    assert _task_customers(client.get("/today", params={"rm": "S001"}).text) == _task_customers(html)
    own = client.get("/today", params={"rm": "S002"}).text
    assert _task_customers(own) == [] and _kpis(own)["open-tasks"] == "待办任务 0"
    # an RM outside the team is ignored: the whole team's list
    assert _task_customers(client.get("/today", params={"rm": "S004"}).text) == _task_customers(html)


def test_today_api_has_the_exact_numbers(client: TestClient) -> None:
    log_in(client, "rm01")
    body = client.get("/api/v1/today").json()
    assert {k: body[k] for k in ("month", "customers_at_risk", "aum_at_risk", "open_alerts")} == {
        "month": "2026-10-01",
        "customers_at_risk": 2,
        "aum_at_risk": 1_098_000.0,
        "open_alerts": 1,
    }
    c001 = body["customers"][1]
    assert (c001["customer_id"], c001["tier"], c001["stage"], c001["p_loss"], c001["aum_at_risk"]) == (
        "C001",
        "sunflower",
        "declining",
        0.42,
        378_000.0,
    )
    assert [r["feature"] for r in c001["reasons"]] == ["aum_change_3m", "outflow_other_bank_3m"]
    alert = c001["alerts"][0]
    assert (alert["alert_type"], alert["severity"], alert["action"]) == (
        "large_outflow",
        "high",
        "call_about_outflow",
    )
    assert (
        alert["action_text"]["en"]
        == "Call the customer about where the money went; offer an alternative here"
    )
    assert NATIONAL_ID not in str(body) and MOBILE not in str(body)


@pytest.mark.parametrize("username", sorted(SCOPE))
def test_customer_list_api_holds_the_scope(client: TestClient, username: str) -> None:
    log_in(client, username)
    body = client.get("/api/v1/customers", params={"sort": "customer_id"}).json()
    expected = SCOPE[username]
    if username == "analyst":  # pseudonymised views (tests/web/test_analyst.py)
        alias = pseudonymiser_for(client.app.state.settings)
        expected = [alias(c) for c in expected]
    assert (body["total"], [c["customer_id"] for c in body["items"]]) == (len(expected), expected)


def test_customer_list_api_filters_and_pages(client: TestClient) -> None:
    log_in(client, "boss")

    def ids(**params: str | int) -> list[str]:
        response = client.get("/api/v1/customers", params=params)
        assert response.status_code == 200, response.text
        return [c["customer_id"] for c in response.json()["items"]]

    assert ids() == ["C003", "C004", "C001", "C002"]
    assert ids(tier="sunflower") == ["C004", "C001"]
    assert ids(stage="churned") == ["C002"]
    assert ids(q="陈") == ["C001"]
    assert ids(page=2, page_size=3) == ["C002"]
    page = client.get("/api/v1/customers", params={"page": 2, "page_size": 3}).json()
    assert {k: page[k] for k in ("month", "page", "page_size", "total")} == {
        "month": "2026-10-01",
        "page": 2,
        "page_size": 3,
        "total": 4,
    }
    for bad in ({"tier": "platinum"}, {"page": 0}, {"page_size": 501}, {"sort": "rm"}):
        response = client.get("/api/v1/customers", params=bad)
        assert response.status_code == 422 and response.json()["error"]["status"] == 422


def test_today_needs_a_login(client: TestClient) -> None:
    assert client.get("/api/v1/today").status_code == 401
    assert client.get("/api/v1/customers").status_code == 401
    page = client.get("/today", follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/login?next=%2Ftoday")

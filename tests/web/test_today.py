"""Today (the RM's home) and the customer list API: the caller's scope, ordered by AUM at risk."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from wealthcrm.config import Settings
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date

from ..customers.test_scope import SCOPE
from ..customers.workbench import MOBILE, NATIONAL_ID, load_workbench
from .conftest import TestClient, log_in
from .html import by_id, parse


@pytest.fixture
def branch(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    """The workbench's branch (overrides the web tests' plainer one)."""
    load_workbench(engine, settings, tmp_path / "branch")
    return engine


@pytest.fixture
def app(branch: Engine, settings: Settings) -> FastAPI:
    application = create_app(settings, branch)
    application.dependency_overrides[current_date] = lambda: date(2026, 11, 28)
    return application


def _kpis(html: str) -> dict[str, str]:
    return {n.attrs["data-kpi"] or "": n.text() for n in parse(html).iter("div") if "data-kpi" in n.attrs}


def _risk_rows(html: str) -> list[list[str]]:
    table = parse(html).find(id="risk-table")
    return [] if table is None else table.table()[1:]


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
        "at-risk": "风险客户 2",
        "aum-at-risk": "风险资产 109.80 万元",
        "open-alerts": "未处理预警 1",
    }
    rows = _risk_rows(html)
    assert [r[:6] for r in rows] == [
        ["1", "张三 C003", "钻石", "考察期", "12.0%", "72.00 万元"],
        ["2", "陈一 C001", "金葵花", "退化期", "42.0%", "37.80 万元"],
    ]
    assert rows[1][6] == "近3个月资产下降44% 30.00 万元转出至他行"
    assert rows[1][7] == "高 大额转出 致电客户了解资金去向，介绍在行内的替代安排"
    assert parse(html).find(id="other-alerts") is None  # nothing outside the list for this RM
    assert "周四" not in html and "刘二" not in html  # other books
    assert NATIONAL_ID not in html and MOBILE not in html
    assert parse(html).find(href="/customers/C001") is not None


def test_today_of_the_manager_in_english_shows_alerts_outside_the_list(client: TestClient) -> None:
    log_in(client, "boss")
    client.get("/lang/en")
    html = client.get("/today").text
    assert _kpis(html) == {
        "at-risk": "Customers at risk 3",
        "aum-at-risk": "AUM at risk ¥1,698,000",
        "open-alerts": "Open alerts 3",
    }
    assert [r[1:6] for r in _risk_rows(html)] == [
        ["张三 C003", "Diamond", "Onboarding", "12.0%", "¥720,000"],
        ["周四 C004", "Sunflower", "Mature", "30.0%", "¥600,000"],
        ["陈一 C001", "Sunflower", "Declining", "42.0%", "¥378,000"],
    ]
    assert _risk_rows(html)[2][6] == "AUM down 44% in 3 months ¥300,000 moved to other banks"
    assert (
        _risk_rows(html)[1][7]
        == "Medium Payroll credit stopped Ask whether the salary moved to another bank or the job changed"
    )
    assert by_id(html, "other-alerts").table() == [
        ["Customer", "Severity", "Alert", "Since", "Suggested action"],
        ["刘二 C002", "High", "On watch", "2026-10", "Make a retention call before the downgrade"],
    ]


@pytest.mark.parametrize(
    ("username", "listed", "others"),
    [
        ("rm01", ["C003", "C001"], []),
        ("rm02", ["C004"], []),
        ("lead", ["C003", "C001"], ["C002"]),
        ("boss", ["C003", "C004", "C001"], ["C002"]),
        ("audit", ["C003", "C004", "C001"], ["C002"]),
        ("svc", [], []),
    ],
)
def test_today_holds_the_scope_on_page_and_api(
    client: TestClient, username: str, listed: list[str], others: list[str]
) -> None:
    log_in(client, username)
    html = client.get("/today").text
    assert [r[1].split()[-1] for r in _risk_rows(html)] == listed
    api = client.get("/api/v1/today").json()
    assert [c["customer_id"] for c in api["customers"]] == listed
    assert [a["customer_id"] for a in api["other_alerts"]] == others
    if not listed:
        assert parse(html).find(data_testid="no-risk") is not None


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
    assert (body["total"], [c["customer_id"] for c in body["items"]]) == (
        len(SCOPE[username]),
        SCOPE[username],
    )


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

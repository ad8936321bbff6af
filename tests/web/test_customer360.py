"""Customer 360: profile with masked PII, risk with reasons in the user's language, charts' data,
alerts, maturities, contacts; out-of-scope customers are 404 on the page and in the API."""

from __future__ import annotations

import json
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

CUSTOMERS = ["C001", "C002", "C003", "C004", "C999", "C001%27--"]


@pytest.fixture
def branch(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_workbench(engine, settings, tmp_path / "branch")
    return engine


@pytest.fixture
def app(branch: Engine, settings: Settings) -> FastAPI:
    application = create_app(settings, branch)
    application.dependency_overrides[current_date] = lambda: date(2026, 11, 28)
    return application


def _facts(html: str) -> dict[str, str]:
    dl = by_id(html, "profile")
    cells = [n.text() for n in dl.iter() if n.tag in ("dt", "dd")]
    return dict(zip(cells[::2], cells[1::2], strict=True))


def test_the_360_page_in_chinese(client: TestClient) -> None:
    log_in(client, "rm01")
    response = client.get("/customers/C001")
    assert response.status_code == 200
    html = response.text
    assert NATIONAL_ID not in html and MOBILE not in html
    assert _facts(html) == {
        "身份证号": "110105********002X",
        "手机号": "138****5678",
        "性别": "男",
        "年龄": "76",
        "职业": "—",
        "开户日期": "2015-01-01",
        "客户经理": "王经理",
        "风险承受能力": "C3 · 评估于 2026-01-10 有效期至 2027-01-10",
    }
    assert by_id(html, "reasons").text() == "近3个月资产下降44% 30.00 万元转出至他行"
    page = parse(html)
    assert page.find(data_field="p_loss").text() == "42.0%"  # type: ignore[union-attr]
    assert page.find(data_field="aum_at_risk").text() == "37.80 万元"  # type: ignore[union-attr]
    assert by_id(html, "alerts-table").table()[1:] == [
        ["未处理", "高", "大额转出", "2026-10", "致电客户了解资金去向，介绍在行内的替代安排"],
        ["已关闭", "低", "临近等级门槛", "2026-09", "约客户做资产检视，防止跌出当前等级"],
    ]
    positions = by_id(html, "positions-table")
    assert [r.attrs.get("class") for r in positions.iter("tr")[1:]] == ["soon", None, None]
    assert positions.table()[1][4] == "2026-12-20 90 天内到期"
    assert by_id(html, "interactions-table").table()[1] == [
        "2026-10-03 10:30",
        "王经理",
        "电话",
        "到期提醒",
        "已联系上",
        "客户考虑转他行",
    ]
    data = json.loads(by_id(html, "customer-data").text())
    assert data == {
        "aum": {
            "months": ["2026-09", "2026-10"],
            "classes": ["demand_deposit", "wmp"],
            "series": {"demand_deposit": [600000.0, 400000.0], "wmp": [1000000.5, 500000.0]},
        },
        "history": {
            "months": ["2026-09", "2026-10"],
            "tiers": ["sunflower", "sunflower"],
            "p_loss": [0.2, 0.42],
            "aum_at_risk": [320000.1, 378000.0],
        },
    }
    labels = json.loads(by_id(html, "customer-labels").text())
    assert labels["asset_names"]["wmp"] == "理财产品" and labels["tier_names"]["sunflower"] == "金葵花"
    for chart in ("aum-chart", "tier-chart", "risk-chart"):
        by_id(html, chart)
    assert '<script src="/static/customer.js' in html


def test_the_360_page_in_english(client: TestClient) -> None:
    log_in(client, "rm01")
    client.get("/lang/en")
    html = client.get("/customers/C001").text
    assert by_id(html, "reasons").text() == "AUM down 44% in 3 months ¥300,000 moved to other banks"
    assert parse(html).find(data_field="aum_at_risk").text() == "¥378,000"  # type: ignore[union-attr]
    assert (
        json.loads(by_id(html, "customer-labels").text())["asset_names"]["wmp"] == "Wealth-management product"
    )
    assert NATIONAL_ID not in html and MOBILE not in html


def test_an_unscored_customer_without_assessment(client: TestClient) -> None:
    log_in(client, "lead")
    client.get("/lang/en")
    html = client.get("/customers/C002").text
    assert parse(html).find(data_testid="no-score") is not None
    assert parse(html).find(data_testid="assessment-expired").text() == "No valid risk assessment"  # type: ignore[union-attr]
    assert _facts(html)["Mobile"] == "139****1111"


def test_the_360_api_is_masked(client: TestClient) -> None:
    log_in(client, "rm01")
    body = client.get("/api/v1/customers/C001").json()
    assert NATIONAL_ID not in json.dumps(body) and MOBILE not in json.dumps(body)
    assert (body["national_id_masked"], body["mobile_masked"]) == ("110105********002X", "138****5678")
    assert body["current"] == {
        "month": "2026-10-01",
        "tier": "sunflower",
        "stage": "declining",
        "watch": False,
        "aum": 900000.0,
        "p_loss": 0.42,
        "aum_at_risk": 378000.0,
    }
    assert [r["zh"] for r in body["reasons"]] == ["近3个月资产下降44%", "30.00 万元转出至他行"]
    assert [a["alert_type"] for a in body["open_alerts"]] == ["large_outflow"]
    assert [(p["position_id"], p["matures_soon"]) for p in body["positions"]] == [
        ("P3", True),
        ("P2", False),
        ("P1", False),
    ]


@pytest.mark.parametrize("username", sorted(SCOPE))
def test_scope_holds_on_the_page_and_in_the_api(client: TestClient, username: str) -> None:
    log_in(client, username)
    client.get("/lang/en")
    missing = client.get("/api/v1/customers/C999").json()
    for customer_id in CUSTOMERS:
        page = client.get(f"/customers/{customer_id}")
        api = client.get(f"/api/v1/customers/{customer_id}")
        if customer_id in SCOPE[username]:
            assert (page.status_code, api.status_code) == (200, 200)
            assert api.json()["customer_id"] == customer_id
        else:
            # another RM's customer looks exactly like one that does not exist
            assert (page.status_code, api.status_code) == (404, 404), customer_id
            error = parse(page.text).find(data_testid="error")
            assert error is not None and "Not found" in error.text()
            body = api.json()
            assert body["error"]["status"] == 404
            if customer_id != "C001%27--":
                assert body == {
                    "error": {
                        "status": 404,
                        "message": missing["error"]["message"].replace("C999", customer_id),
                    }
                }
            for other in ("陈一", "刘二", "张三", "周四"):
                assert other not in page.text and other not in api.text

"""The branch overview page and its JSON API, with the test branch's real numbers."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from wealthcrm.config import Settings
from wealthcrm.db import session_scope
from wealthcrm.holdings.service import latest_month, month_range
from wealthcrm.tiers.service import tier_report
from wealthcrm.web import create_app
from wealthcrm.web.overview import parse_month

from .branch import load_branch
from .conftest import TestClient, log_in
from .html import by_id, parse

TIERS_ZH_OCT = [
    ["客户等级", "客户数", "占比", "管理资产 (AUM)", "占比"],
    ["大众", "0", "0.0%", "0 元", "0.0%"],
    ["金卡", "1", "33.3%", "0 元", "0.0%"],
    ["金葵花", "1", "33.3%", "90.00 万元", "13.0%"],
    ["钻石", "1", "33.3%", "600.00 万元", "87.0%"],
    ["私人银行", "0", "0.0%", "0 元", "0.0%"],
    ["合计", "3", "100.0%", "690.00 万元", "100.0%"],
]
TIERS_EN_SEP = [
    ["Tier", "Customers", "Share", "AUM", "Share"],
    ["Mass", "0", "0.0%", "¥0", "0.0%"],
    ["Gold", "1", "50.0%", "¥60,000", "3.6%"],
    ["Sunflower", "1", "50.0%", "¥1,600,001", "96.4%"],
    ["Diamond", "0", "0.0%", "¥0", "0.0%"],
    ["Private banking", "0", "0.0%", "¥0", "0.0%"],
    ["Total", "2", "100.0%", "¥1,660,001", "100.0%"],
]
MIGRATION_EN_OCT = [
    ["2026-09 → 2026-10", "Mass", "Gold", "Sunflower", "Diamond", "Private banking", "Closed"],
    ["Mass", "0", "0", "0", "0", "0", "0"],
    ["Gold", "0", "1", "0", "0", "0", "0"],
    ["Sunflower", "0", "0", "1", "0", "0", "0"],
    ["Diamond", "0", "0", "0", "0", "0", "0"],
    ["Private banking", "0", "0", "0", "0", "0", "0"],
    ["New customers", "0", "0", "0", "1", "0", "0"],
]


def _kpis(html: str) -> dict[str, str]:
    return {
        node.attrs["data-kpi"] or "": node.text()
        for node in parse(html).iter("div")
        if "data-kpi" in node.attrs
    }


def test_overview_in_chinese_shows_the_latest_month(client: TestClient) -> None:
    log_in(client, "boss")
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="zh-CN">' in html
    assert by_id(html, "tier-table").table() == TIERS_ZH_OCT
    assert _kpis(html) == {
        "customers": "客户数 3",
        "aum": "管理资产 (AUM) 690.00 万元",
        "watch": "关注客户 1 0 元",
        "customer-loss": "本月客户流失 0 0 元",
        "asset-loss": "资产流失 0 流失 0 元",
    }
    picker = by_id(html, "month")
    options = [(o.attrs["value"], "selected" in o.attrs) for o in picker.iter("option")]
    assert options == [("2026-10", True), ("2026-09", False)]
    assert parse(html).find(id="migration-chart") is not None
    assert parse(html).find(id="tier-chart") is not None


def test_overview_in_english_for_a_chosen_month(client: TestClient) -> None:
    log_in(client, "lead")
    switched = client.get("/lang/en?next=%2F%3Fmonth%3D2026-09", follow_redirects=False)
    assert (switched.status_code, switched.headers["location"]) == (303, "/?month=2026-09")
    assert "lang=en" in switched.headers["set-cookie"]
    html = client.get("/?month=2026-09").text
    assert '<html lang="en">' in html
    assert by_id(html, "tier-table").table() == TIERS_EN_SEP
    note = parse(html).find(data_testid="no-migration")
    assert note is not None
    assert note.text() == "2026-09 is the first month of data: there is no earlier month to compare with."
    assert parse(html).find(id="migration-chart") is None


def test_migration_matrix_in_english(client: TestClient) -> None:
    client.cookies.set("lang", "en")
    log_in(client, "boss")
    html = client.get("/?month=2026-10").text
    assert by_id(html, "migration-table").table() == MIGRATION_EN_OCT
    cells = by_id(html, "migration-table").iter("td")
    kinds = {c.attrs["class"] for c in cells if c.text() == "1"}
    assert kinds == {"num same", "num "}  # two stayed, one new customer


def test_unknown_lang_keeps_the_default(client: TestClient) -> None:
    response = client.get("/lang/fr", follow_redirects=False)
    assert response.status_code == 303 and "set-cookie" not in response.headers
    client.cookies.set("lang", "fr")
    assert '<html lang="zh-CN">' in client.get("/login").text


def test_chart_data_embedded_in_the_page_is_the_api_document(client: TestClient) -> None:
    log_in(client, "boss")
    html = client.get("/?month=2026-10").text
    embedded = by_id(html, "overview-data").text()
    api = client.get("/api/v1/overview", params={"month": "2026-10"}).json()
    assert json.loads(embedded) == api
    assert list(json.loads(embedded)["tiers"]) == list(api["tiers"])  # same key order
    labels = json.loads(by_id(html, "overview-labels").text())
    assert labels["tiers"] == ["mass", "gold", "sunflower", "diamond", "private"]
    assert labels["rows"] == [*labels["tiers"], "new"] and labels["cols"] == [*labels["tiers"], "gone"]
    assert labels["names"]["sunflower"] == "金葵花"


@pytest.mark.parametrize("month", [None, "2026-09", "2026-10"])
def test_api_is_the_tier_report(
    client: TestClient, branch: Engine, settings: Settings, month: str | None
) -> None:
    log_in(client, "boss")
    response = client.get("/api/v1/overview", params={"month": month} if month else {})
    assert response.status_code == 200
    wanted = parse_month(month) or date(2026, 10, 1)
    with session_scope(branch) as session:
        assert response.json() == tier_report(session, month=wanted, settings=settings).to_dict()


def test_an_rm_sees_neither_the_api_nor_the_overview(client: TestClient) -> None:
    log_in(client, "rm01")
    api = client.get("/api/v1/overview")
    assert api.status_code == 403
    assert api.json() == {"error": {"status": 403, "message": "the rm role may not see this"}}
    home = client.get("/", follow_redirects=False)
    assert (home.status_code, home.headers["location"]) == (303, "/today")
    html = client.get("/").text
    assert parse(html).find(id="tier-table") is None
    assert "overview-data" not in html and "690.00" not in html


@pytest.mark.parametrize("month", ["2026-13", "x", "2026-1", "0999-01"])
def test_a_bad_month_is_422_json_or_html(client: TestClient, month: str) -> None:
    log_in(client, "boss")
    api = client.get("/api/v1/overview", params={"month": month})
    assert api.status_code == 422
    assert api.json() == {
        "error": {"status": 422, "message": f"month: {month!r} is not a month; use YYYY-MM, e.g. 2026-10"}
    }
    page = client.get("/", params={"month": month})
    assert page.status_code == 422
    error = parse(page.text).find(data_testid="error")
    assert error is not None and error.text().startswith("422 输入有误")


def test_an_overlong_month_is_a_validation_error(client: TestClient) -> None:
    log_in(client, "boss")
    api = client.get("/api/v1/overview", params={"month": "2026-10-01"})
    assert api.status_code == 422
    assert api.json()["error"]["message"] == "month: String should have at most 7 characters"
    assert client.get("/", params={"month": "2026-10-01"}).status_code == 422


def test_a_month_without_data_is_404(client: TestClient) -> None:
    log_in(client, "boss")
    api = client.get("/api/v1/overview", params={"month": "2025-01"})
    assert api.json() == {"error": {"status": 404, "message": "no AUM data for 2025-01"}}
    page = client.get("/", params={"month": "2025-01"})
    assert page.status_code == 404 and "no AUM data for 2025-01" in page.text


def test_an_empty_database_shows_how_to_start(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    load_branch(engine, settings, tmp_path / "staff-only", with_data=False)
    with TestClient(create_app(settings, engine)) as client:
        log_in(client, "boss")
        page = client.get("/")
        assert page.status_code == 200
        assert parse(page.text).find(data_testid="no-data") is not None
        api = client.get("/api/v1/overview")
        assert api.json() == {
            "error": {"status": 404, "message": "no AUM data yet: import aum_monthly first"}
        }
    with session_scope(engine) as session:
        assert (latest_month(session), month_range(session)) == (None, None)


def test_month_helpers(branch: Engine) -> None:
    with session_scope(branch) as session:
        assert latest_month(session) == date(2026, 10, 1)
        assert month_range(session) == (date(2026, 9, 1), date(2026, 10, 1))


def test_pages_load_nothing_from_other_sites(client: TestClient, app: FastAPI) -> None:
    log_in(client, "boss")
    html = client.get("/").text
    assert not re.search(r'(src|href)="(https?:)?//', html)
    for url in re.findall(r'(?:src|href)="(/static/[^"?]+)', html):
        assert client.get(url).status_code == 200, url
    headers = client.get("/").headers
    assert headers["content-security-policy"].startswith("default-src 'self'; script-src 'self'")
    assert (headers["x-frame-options"], headers["x-content-type-options"]) == ("DENY", "nosniff")
    assert app.docs_url is None and app.redoc_url is None  # Swagger UI would load from a CDN
    assert "/api/v1/overview" in client.get("/api/v1/openapi.json").json()["paths"]

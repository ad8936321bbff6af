"""Customer 360: profile with masked PII, risk with reasons in the user's language, charts' data,
alerts, maturities, contacts, service requests, this year's benefits and survey answers; out-of-scope
customers are 404 on the page and in the API; analysts are refused (403) whoever the customer."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select, update

from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import Settings
from wealthcrm.db import session_scope
from wealthcrm.entitlements.models import EntitlementCounter
from wealthcrm.surveys.models import SurveyAnswer
from wealthcrm.vocab import Tier
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date
from wealthcrm.web.routes.service_common import REQUEST_STATUS_LABELS, service_now

from ..customers.test_scope import SCOPE
from ..customers.workbench import MOBILE, NATIONAL_ID, load_workbench
from .conftest import TestClient, log_in
from .html import by_id, parse

CUSTOMERS = ["C001", "C002", "C003", "C004", "C999", "C001%27--"]


@pytest.fixture
def branch(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_workbench(engine, settings, tmp_path / "branch")
    return engine


#: the service desk's word for a closed request (its catalog, service.po)
CLOSED = REQUEST_STATUS_LABELS["closed"]
#: now, as the service desk's clock: Saturday 2026-11-28 10:00 in Beijing
NOW = datetime(2026, 11, 28, 2, 0)


@pytest.fixture
def app(branch: Engine, settings: Settings) -> FastAPI:
    application = create_app(settings, branch)
    application.dependency_overrides[current_date] = lambda: date(2026, 11, 28)
    application.dependency_overrides[service_now] = lambda: NOW
    return application


def _answer(response_id: str, item_id: str, score: float | None, text: str | None = None) -> SurveyAnswer:
    return SurveyAnswer(
        response_id=response_id,
        item_id=item_id,
        customer_id="C001",
        questionnaire_id="branch_default",
        answered_on=date(2026, 11, 10),
        score=score,
        text=text,
    )


@pytest.fixture
def extras(branch: Engine) -> Engine:
    """C001: diamond in 2026-09 (so the benefits stay diamond's through the grace period: 2026-09 + 3
    months), one airport lounge visit used in 2026, and a second survey answer (branch_default)."""
    with session_scope(branch) as session:
        session.execute(
            update(CustomerMonth)
            .where(CustomerMonth.customer_id == "C001", CustomerMonth.month == date(2026, 9, 1))
            .values(tier=Tier.diamond)
        )
        session.add(EntitlementCounter(customer_id="C001", benefit="airport_lounge", year=2026, used=1))
        scores = {"TAN1": 7, "TAN2": 6, "TAN3": 5, "TAN4": 6, "REL1": 4, "REL2": 5, "RES1": 2, "NPS": 9}
        session.add_all([_answer("SV2", item, score) for item, score in scores.items()])
        session.add(_answer("SV2", "COMMENT", None, "客户经理很专业"))
    return branch


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
        if username == "analyst":  # pseudonymised views only: no identified customer, in scope or not
            assert (page.status_code, api.status_code) == (403, 403), customer_id
            assert api.json()["error"]["status"] == 403
            for other in ("陈一", "刘二", "张三", "周四"):
                assert other not in page.text and other not in api.text
        elif customer_id in SCOPE[username]:
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


def test_service_benefits_and_survey_panels_in_english(client: TestClient, extras: Engine) -> None:
    log_in(client, "rm01")
    client.get("/lang/en")
    html = client.get("/customers/C001").text
    # open requests first (soonest due), then the others newest first; local times (Asia/Shanghai), as
    # the imported file gave them (the database holds them in UTC)
    assert by_id(html, "service-table").table() == [
        ["Request", "Type", "Status", "Opened", "SLA due", "Rating"],
        ["R2", "Inquiry", "New", "2026-11-20 15:30", "2026-12-02 18:00 24.0 working hours left", "—"],
        ["R1", "Complaint", CLOSED, "2026-10-05 09:00", "2026-10-07 18:00 SLA breached", "2 of 5"],
    ]
    assert parse(html).find(data_request="R1").attrs["class"] == "closed"  # type: ignore[union-attr]
    # downgraded to sunflower in 2026-10: diamond's benefits through 2026-12 (grace_months = 3)
    assert by_id(html, "benefits-title").text() == "Benefits in 2026"
    assert parse(html).find(data_testid="benefit-tier").text() == (  # type: ignore[union-attr]
        "Benefits of the Diamond tier. Kept through the downgrade grace period until 2026-12"
    )
    assert by_id(html, "benefits-table").table()[1:] == [
        ["Airport lounge", "6", "1", "5"],
        ["Airport VIP lane", "2", "0", "2"],
        ["Health check-up", "1", "0", "1"],
        ["Priority queue", "Unlimited", "0", "Unlimited"],
        ["Fee waiver", "Unlimited", "0", "Unlimited"],
    ]
    # the latest answer (branch_default): dimension means on its 1–7 scale, NPS 9 = promoter
    latest = parse(html).find(data_testid="survey-latest")
    assert latest is not None
    assert (
        latest.text()
        == "Latest answer 2026-11-10 · Satisfaction and loyalty survey of mid-to-high-end customers"
    )
    assert parse(html).find(data_field="nps").text() == "9"  # type: ignore[union-attr]
    assert parse(html).find(data_field="nps-class").text() == "Promoter"  # type: ignore[union-attr]
    assert by_id(html, "survey-dimensions").table() == [
        ["Dimension", "Score (1–7)", "Items answered"],
        ["Tangibles", "6.00", "4 of 4"],
        ["Reliability", "4.50", "2 of 4"],
        ["Responsiveness", "2.00", "1 of 4"],
        ["Assurance", "—", "0 of 4"],
        ["Empathy", "—", "0 of 4"],
        ["Relationship manager", "—", "0 of 3"],
        ["Digital channels", "—", "0 of 3"],
        ["Perceived value", "—", "0 of 3"],
    ]
    assert by_id(html, "survey-comments").text() == "客户经理很专业"
    # the earlier answer: to a questionnaire not known here (no dimensions), NPS 3 = detractor
    assert by_id(html, "survey-history").table() == [
        ["Date", "Questionnaire", "Would recommend us (0–10)", "Weakest dimension"],
        ["2026-10-20", "branch2026", "3 Detractor", "—"],
    ]
    assert NATIONAL_ID not in html and MOBILE not in html


def test_the_panels_in_chinese(client: TestClient, extras: Engine) -> None:
    log_in(client, "rm01")
    html = client.get("/customers/C001").text
    assert by_id(html, "service-table").table()[1][1:3] == ["咨询", "新建"]
    assert parse(html).find(data_testid="breached").text() == "已超时"  # type: ignore[union-attr]
    assert by_id(html, "benefits-title").text() == "2026 年权益"
    assert by_id(html, "benefits-table").table()[1] == ["机场贵宾厅", "6", "1", "5"]
    assert parse(html).find(data_field="nps-class").text() == "推荐者"  # type: ignore[union-attr]
    assert by_id(html, "survey-dimensions").table()[1] == ["有形性", "6.00", "4/4"]


def test_the_panels_when_there_is_nothing(client: TestClient) -> None:
    log_in(client, "rm01")
    client.get("/lang/en")
    html = client.get("/customers/C003").text  # no requests, no answers; diamond since 2026-10
    assert parse(html).find(data_testid="no-requests") is not None
    assert parse(html).find(data_testid="no-survey") is not None
    assert parse(html).find(data_testid="benefit-tier").text() == "Benefits of the Diamond tier."  # type: ignore[union-attr]
    log_in(client, "lead")
    html = client.get("/customers/C002").text  # gold, on watch: fee waivers only
    rows = {r[0]: r[1:] for r in by_id(html, "benefits-table").table()[1:]}
    assert rows["Fee waiver"] == ["12", "0", "12"] and rows["Airport lounge"] == ["Not in this tier"]


def test_the_360_api_has_the_panels(client: TestClient, extras: Engine) -> None:
    log_in(client, "rm01")
    body = client.get("/api/v1/customers/C001").json()
    assert body["service_requests_total"] == 2
    assert body["service_requests"][1] == {
        "request_id": "R1",
        "request_type": "complaint",
        "status": "closed",
        "open": False,
        "channel": "branch",
        "priority": "high",
        "opened_at": "2026-10-05T01:00:00Z",  # 09:00 in Beijing, as the file said
        "acknowledge_due_at": None,
        "due_at": "2026-10-07T10:00:00Z",
        "resolved_at": "2026-10-08T03:00:00Z",
        "breached": True,
        "acknowledged_late": False,
        "remaining_hours": None,
        "paused": True,
        "rating": 2,
        "summary": None,
    }
    assert [
        (r["request_id"], r["open"], r["breached"], r["remaining_hours"]) for r in body["service_requests"]
    ] == [
        ("R2", True, False, 24.0),
        ("R1", False, True, None),
    ]
    assert body["entitlements"] == {
        "year": 2026,
        "tier": "diamond",
        "current_tier": "sunflower",
        "grace_until": "2026-12",
        "benefits": [
            {"benefit": "airport_lounge", "eligible": True, "quota": 6, "used": 1, "remaining": 5},
            {"benefit": "airport_vip_lane", "eligible": True, "quota": 2, "used": 0, "remaining": 2},
            {"benefit": "health_checkup", "eligible": True, "quota": 1, "used": 0, "remaining": 1},
            {"benefit": "priority_queue", "eligible": True, "quota": None, "used": 0, "remaining": None},
            {"benefit": "fee_waiver", "eligible": True, "quota": None, "used": 0, "remaining": None},
        ],
    }
    latest, earlier = body["surveys"]
    assert {k: latest[k] for k in ("response_id", "answered_on", "known", "scale", "nps", "nps_class")} == {
        "response_id": "SV2",
        "answered_on": "2026-11-10",
        "known": True,
        "scale": {"min": 1, "max": 7},
        "nps": 9.0,
        "nps_class": "promoter",
    }
    assert [(d["dimension"], d["score"], d["answered"]) for d in latest["dimensions"][:4]] == [
        ("tangibles", 6.0, 4),
        ("reliability", 4.5, 2),
        ("responsiveness", 2.0, 1),
        ("assurance", None, 0),
    ]
    assert latest["comments"] == ["客户经理很专业"]
    assert (earlier["response_id"], earlier["known"], earlier["dimensions"], earlier["nps_class"]) == (
        "SV1",
        False,
        [],
        "detractor",
    )
    assert NATIONAL_ID not in json.dumps(body, ensure_ascii=False) and MOBILE not in json.dumps(body)


def test_analysts_are_refused_and_the_attempt_is_audited(client: TestClient, branch: Engine) -> None:
    log_in(client, "analyst")
    for path in ("/customers/C001", "/api/v1/customers/C001", "/customers/C001/pii/mobile", "/today"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "陈一" not in response.text and "138****5678" not in response.text
    assert client.get("/api/v1/today").status_code == 403
    assert client.get("/api/v1/alerts").status_code == 403
    with session_scope(branch) as session:
        denied = session.scalars(
            select(AuditEntry.customer_id).where(
                AuditEntry.action == "access_denied", AuditEntry.actor == "analyst"
            )
        ).all()
    assert set(denied) == {"C001"}


@pytest.mark.parametrize(
    ("username", "linked"),
    [("rm01", True), ("lead", True), ("boss", True), ("audit", False), ("analyst", False), ("svc", False)],
)
def test_the_delegations_page_is_in_the_nav_of_those_who_delegate(
    client: TestClient, username: str, linked: bool
) -> None:
    log_in(client, username)
    nav = parse(client.get("/book" if username != "svc" else "/lookup").text).find(**{"class": "mainnav"})
    assert nav is not None
    assert ("/admin/delegations" in [a.attrs.get("href") for a in nav.iter("a")]) is linked
    if linked:
        page = client.get("/admin/delegations")
        assert page.status_code == 200
        current = parse(page.text).find(**{"aria-current": "page"})
        assert current is not None and current.attrs["href"] == "/admin/delegations"

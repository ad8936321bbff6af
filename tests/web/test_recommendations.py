"""Recommendations on the web: Customer 360's panel (outcomes, overrides, blocked reasons in words),
the approvals page, the JSON API; CSRF and roles, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import Settings
from wealthcrm.db import session_scope
from wealthcrm.recommendations import service
from wealthcrm.recommendations.models import Recommendation
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date
from wealthcrm.web.routes import recommendations as routes

from ..recommendations.data import ON, load_recommendations, reco_settings
from .conftest import TestClient, csrf_token, log_in
from .html import by_id, parse

HTMX = {"HX-Request": "true"}


@pytest.fixture
def cfg(settings: Settings) -> Settings:
    return reco_settings(settings)


@pytest.fixture
def branch(engine: Engine, settings: Settings, cfg: Settings, tmp_path: Path) -> Engine:
    load_recommendations(engine, settings, tmp_path / "branch")
    with session_scope(engine) as session:
        service.generate(session, on=ON, settings=cfg)
    return engine


@pytest.fixture
def app(branch: Engine, cfg: Settings) -> FastAPI:
    application = create_app(cfg, branch)
    application.dependency_overrides[current_date] = lambda: ON
    return application


def _id(engine: Engine, customer_id: str, kind: str) -> int:
    with session_scope(engine) as session:
        return session.scalars(
            select(Recommendation.id).where(
                Recommendation.customer_id == customer_id, Recommendation.kind == kind
            )
        ).one()


def _status(engine: Engine, rec_id: int) -> str:
    with session_scope(engine) as session:
        return str(session.get(Recommendation, rec_id).status)  # type: ignore[union-attr]


def _actions(engine: Engine) -> list[tuple[str, str]]:
    with session_scope(engine) as session:
        return [
            (e.action, e.actor)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
            if e.action.startswith(("recommendation.", "suitability."))
        ]


def _login(client: TestClient, username: str, lang: str = "zh_CN") -> str:
    assert log_in(client, username).status_code == 303
    client.get(f"/lang/{lang}")
    return csrf_token(client, "/book" if username != "svc" else "/lookup")


def test_the_panel_in_chinese(client: TestClient) -> None:
    _login(client, "rm01")
    response = client.get("/customers/C001/panels/recommendations")
    assert response.status_code == 200
    table = by_id(response.text, "reco-table").table()
    assert table[0] == ["建议行动", "产品", "建议金额", "状态", "原因", "记录结果"]
    assert [row[:5] for row in table[1:]] == [
        [
            "盘活闲置活期资金",
            "稳健理财6个月 WMP001 · 理财产品 · R2",
            "35.00 万元",
            "可推荐",
            "活期存款 40.00 万元，占资产的 44.4%。",
        ],
        [
            "到期产品续投",
            "稳健理财6个月 WMP001 · 理财产品 · R2",
            "20.30 万元",
            "可推荐",
            "WMP001 于 2026-12-20 到期，本金 20.00 万元。",
        ],
    ]
    page = parse(response.text)
    assert [f.attrs["data-form"] for f in page.iter("form")] == ["accept", "decline", "accept", "decline"]
    assert '<script src="/static/recommendations.js' in response.text


def test_a_blocked_recommendation_says_why_in_plain_words(client: TestClient) -> None:
    _login(client, "rm01", "en")
    html = client.get("/customers/C003/panels/recommendations").text
    row = by_id(html, "reco-table").table()[1]
    assert row[:4] == [
        "Add a second asset class",
        "稳健理财6个月 WMP001 · Wealth-management product · R2",
        "—",
        "Blocked by suitability",
    ]
    reasons = parse(html).find(data_testid="blocked-reasons")
    assert reasons is not None
    assert reasons.text() == "The risk assessment has expired: assess the customer again before selling."
    assert [f.attrs["data-form"] for f in parse(html).iter("form")] == ["override", "decline"]
    client.get("/lang/zh_CN")
    html = client.get("/customers/C003/panels/recommendations").text
    assert (
        parse(html).find(data_testid="blocked-reasons").text() == "风险测评已过期：销售前须为客户重新测评。"
    )  # type: ignore[union-attr]


def test_the_panel_keeps_to_the_scope(client: TestClient) -> None:
    _login(client, "rm01")
    assert client.get("/customers/C004/panels/recommendations").status_code == 404
    assert client.get("/customers/C999/panels/recommendations").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/book")})
    _login(client, "audit")
    html = client.get("/customers/C004/panels/recommendations").text
    assert [r[3] for r in by_id(html, "reco-table").table()[1:]] == ["适当性拦截"]
    assert parse(html).iter("form") == []  # compliance reads, does not sell
    assert "记录结果" not in html


def test_recording_an_outcome_from_the_panel(client: TestClient, branch: Engine) -> None:
    token = _login(client, "rm01")
    idle = _id(branch, "C001", "move_idle_deposits")
    url = f"/recommendations/{idle}/outcome"
    form = {"outcome": "accepted", "channel": "in_branch", "recording_id": "REC-9"}
    # without the CSRF token: refused, nothing recorded
    assert client.post(url, data=form, headers=HTMX).status_code == 403
    # in branch without the customer's consent: blocked, the panel says why (htmx swaps the 409)
    response = client.post(url, data={**form, "csrf_token": token}, headers=HTMX)
    assert response.status_code == 409
    error = parse(response.text).find(data_testid="reco-error")
    assert error is not None
    assert error.text() == "该笔销售被适当性规则拦截。 客户未同意录音录像：不得销售。"
    assert by_id(response.text, "reco-table")  # the panel, not an error page
    assert _status(branch, idle) == "proposed"
    # without htmx the same problem is an error page with the status
    page = client.post(url, data={**form, "csrf_token": token})
    assert page.status_code == 409 and "该笔销售被适当性规则拦截" in page.text
    # bad inputs are 422 with the reason
    bad = client.post(url, data={"outcome": "maybe", "csrf_token": token}, headers=HTMX)
    assert bad.status_code == 422
    assert parse(bad.text).find(data_testid="reco-error").text() == "结果只能是接受或拒绝。"  # type: ignore[union-attr]
    bad = client.post(url, data={"outcome": "accepted", "channel": "post", "csrf_token": token}, headers=HTMX)
    assert bad.status_code == 422
    # with consent: accepted
    ok = client.post(url, data={**form, "consent": "on", "csrf_token": token}, headers=HTMX)
    assert ok.status_code == 200
    assert parse(ok.text).find(data_testid="reco-notice").text() == "已记录：客户接受。"  # type: ignore[union-attr]
    assert _status(branch, idle) == "accepted"
    # a plain form post goes back to the customer's page
    reinvest = _id(branch, "C001", "reinvest_maturity")
    back = client.post(
        f"/recommendations/{reinvest}/outcome",
        data={"outcome": "declined", "csrf_token": token},
        follow_redirects=False,
    )
    assert (back.status_code, back.headers["location"]) == (303, "/customers/C001#recommendations")
    assert _actions(branch)[1:] == [("recommendation.accepted", "rm01"), ("recommendation.declined", "rm01")]


def test_override_request_and_approval_on_the_pages(client: TestClient, branch: Engine) -> None:
    rec = _id(branch, "C003", "deepen_single_product")
    token = _login(client, "rm01")
    assert "/approvals" not in client.get("/book").text  # no approvals link for an RM
    assert client.get("/approvals").status_code == 403
    empty = client.post(
        f"/recommendations/{rec}/override", data={"reason": " ", "csrf_token": token}, headers=HTMX
    )
    assert empty.status_code == 422
    assert parse(empty.text).find(data_testid="reco-error").text() == "请填写申请例外的理由。"  # type: ignore[union-attr]
    asked = client.post(
        f"/recommendations/{rec}/override",
        data={"reason": "客户下周到网点重新测评", "csrf_token": token},
        headers=HTMX,
    )
    assert asked.status_code == 200
    assert by_id(asked.text, "reco-table").table()[1][3] == "已申请例外审批"
    # the RM cannot decide it, even by posting the form
    assert (
        client.post(
            f"/recommendations/{rec}/decision", data={"decision": "approve", "csrf_token": token}
        ).status_code
        == 403
    )
    client.post("/logout", data={"csrf_token": token})

    token = _login(client, "lead")
    home = parse(client.get("/book").text)
    assert any(a.attrs.get("href") == "/approvals" and a.text() == "审批" for a in home.iter("a"))
    page = client.get("/approvals")
    assert page.status_code == 200
    rows = by_id(page.text, "approvals-table").table()
    assert rows[1][:6] == [
        "张三 C003",
        "增配第二类资产",
        "稳健理财6个月 WMP001 · R2",
        "风险测评已过期：销售前须为客户重新测评。",
        "rm01",
        "客户下周到网点重新测评",
    ]
    decide = f"/recommendations/{rec}/decision"
    assert client.post(decide, data={"decision": "approve"}).status_code == 403  # no CSRF token
    assert client.post(decide, data={"decision": "reject", "csrf_token": token}).status_code == 422  # no note
    assert client.post(decide, data={"decision": "maybe", "csrf_token": token}).status_code == 422
    done = client.post(
        decide, data={"decision": "approve", "note": "同意", "csrf_token": token}, follow_redirects=False
    )
    assert (done.status_code, done.headers["location"]) == (303, "/approvals")
    assert _status(branch, rec) == "approved"
    assert parse(client.get("/approvals").text).find(data_testid="no-approvals") is not None
    assert _actions(branch)[1:] == [
        ("suitability.override_requested", "rm01"),
        ("suitability.override_approved", "lead"),
    ]


def test_the_lead_of_another_team_does_not_see_the_request(client: TestClient, branch: Engine) -> None:
    rec = _id(branch, "C003", "deepen_single_product")
    token = _login(client, "rm01")
    client.post(f"/recommendations/{rec}/override", data={"reason": "客户坚持", "csrf_token": token})
    client.post("/logout", data={"csrf_token": token})
    token = _login(client, "lead2")
    assert parse(client.get("/approvals").text).find(data_testid="no-approvals") is not None
    response = client.post(
        f"/recommendations/{rec}/decision", data={"decision": "approve", "csrf_token": token}
    )
    assert response.status_code == 404
    assert _status(branch, rec) == "override_requested"


# --- API --------------------------------------------------------------------------------------------


def test_the_api_lists_a_customers_recommendations_in_pages(client: TestClient) -> None:
    _login(client, "rm01")
    body = client.get("/api/v1/customers/C001/recommendations").json()
    assert (body["customer_id"], body["page"], body["page_size"], body["total"]) == ("C001", 1, 50, 2)
    assert [(i["kind"], i["status"], i["product_code"], i["amount"]) for i in body["items"]] == [
        ("move_idle_deposits", "proposed", "WMP001", 350000.0),
        ("reinvest_maturity", "proposed", "WMP001", 203000.0),
    ]
    second = client.get("/api/v1/customers/C001/recommendations?page=2&page_size=1").json()
    assert (second["total"], [i["kind"] for i in second["items"]]) == (2, ["reinvest_maturity"])
    assert client.get("/api/v1/customers/C001/recommendations?page_size=0").status_code == 422
    missing = client.get("/api/v1/customers/C004/recommendations")
    assert missing.status_code == 404 and missing.json()["error"]["status"] == 404


def test_the_api_works_outcomes_and_overrides(client: TestClient, branch: Engine) -> None:
    assert client.get("/api/v1/approvals").status_code == 401
    token = _login(client, "rm01")
    headers = {"X-CSRF-Token": token}
    idle = _id(branch, "C001", "move_idle_deposits")
    url = f"/api/v1/recommendations/{idle}/outcome"
    sale = {"outcome": "accepted", "channel": "in_branch", "recording_id": "REC-1", "consent": False}
    assert client.post(url, json=sale).status_code == 403  # no CSRF header
    blocked = client.post(url, json=sale, headers=headers)
    assert blocked.status_code == 409
    assert blocked.json() == {
        "error": {
            "status": 409,
            "message": "该笔销售被适当性规则拦截。 客户未同意录音录像：不得销售。 [consent_missing]",
        }
    }
    for bad in ({"outcome": "maybe"}, {"outcome": "accepted", "channel": "post"}, {**sale, "extra": 1}):
        response = client.post(url, json=bad, headers=headers)
        assert response.status_code == 422 and response.json()["error"]["status"] == 422
    accepted = client.post(url, json={**sale, "consent": True}, headers=headers)
    assert accepted.status_code == 200
    assert {k: accepted.json()[k] for k in ("status", "channel", "recording_id", "recording_consent")} == {
        "status": "accepted",
        "channel": "in_branch",
        "recording_id": "REC-1",
        "recording_consent": True,
    }
    again = client.post(url, json={"outcome": "declined"}, headers=headers)
    assert again.status_code == 409

    blocked_rec = _id(branch, "C003", "deepen_single_product")
    assert (
        client.post(
            f"/api/v1/recommendations/{blocked_rec}/override", json={"reason": ""}, headers=headers
        ).status_code
        == 422
    )
    nul = client.post(
        f"/api/v1/recommendations/{blocked_rec}/override", json={"reason": "a\x00b"}, headers=headers
    )
    assert (nul.status_code, nul.json()["error"]["message"]) == (422, "文字中含有 NUL 字符。")
    huge = client.post("/api/v1/recommendations/99999999999/override", json={"reason": "x"}, headers=headers)
    assert huge.status_code == 422
    asked = client.post(
        f"/api/v1/recommendations/{blocked_rec}/override", json={"reason": "客户坚持"}, headers=headers
    )
    assert (asked.status_code, asked.json()["status"]) == (200, "override_requested")
    assert client.get("/api/v1/approvals").status_code == 403  # an RM approves nothing
    own = client.post(
        f"/api/v1/recommendations/{blocked_rec}/decision", json={"approve": True}, headers=headers
    )
    assert own.status_code == 403
    client.post("/logout", data={"csrf_token": token})

    token = _login(client, "lead")
    headers = {"X-CSRF-Token": token}
    pending = client.get("/api/v1/approvals").json()
    assert (pending["total"], [i["id"] for i in pending["items"]]) == (1, [blocked_rec])
    decision = f"/api/v1/recommendations/{blocked_rec}/decision"
    assert client.post(decision, json={"approve": False}, headers=headers).status_code == 422  # no note
    decided = client.post(decision, json={"approve": True, "note": "同意"}, headers=headers)
    assert (decided.status_code, decided.json()["status"], decided.json()["decided_by"]) == (
        200,
        "approved",
        "lead",
    )
    assert (
        client.post(decision, json={"approve": True}, headers=headers).status_code == 409
    )  # decided already
    assert (
        client.post(
            "/api/v1/recommendations/999999/decision", json={"approve": True}, headers=headers
        ).status_code
        == 404
    )
    assert _actions(branch)[1:] == [
        ("recommendation.accepted", "rm01"),
        ("suitability.override_requested", "rm01"),
        ("suitability.override_approved", "lead"),
    ]


def test_every_service_message_is_translated() -> None:
    assert set(routes.SERVICE_MESSAGES) == set(service.MESSAGES)
    assert set(routes.REASON_TEXT) == set(service.rules.REASONS)


def test_today_is_the_request_date(app: FastAPI) -> None:
    assert app.dependency_overrides[current_date]() == date(2026, 11, 28)

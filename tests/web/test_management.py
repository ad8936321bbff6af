"""Scorecards, workload and the monthly report in the web app: who sees what (an RM only their own
scorecard), the definitions on the page, applying a rebalancing proposal after confirming it, and the
report's page, downloads and API (both databases)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from sqlalchemy import Engine, select

from wealthcrm.config import Settings, WorkloadSettings
from wealthcrm.customers.models import Customer
from wealthcrm.db import session_scope
from wealthcrm.scorecards.metrics import METRICS
from wealthcrm.tasks.models import Task
from wealthcrm.vocab import TaskKind
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date

from ..reports.data import PASSWORD, load_report_branch
from .conftest import TestClient, csrf_token

TODAY = date(2026, 11, 2)


@pytest.fixture
def app(engine: Engine, settings: Settings) -> FastAPI:
    with session_scope(engine) as session:
        load_report_branch(session, with_users=True)
    # S1 holds two sunflower customers (C01, C03) against a target of one; the lead L1 has room for one
    targets = WorkloadSettings(gold_target=0, sunflower_target=1, diamond_target=0, private_target=0)
    application = create_app(settings.model_copy(update={"workload": targets}), engine)
    application.dependency_overrides[current_date] = lambda: TODAY
    return application


@pytest.fixture
def login(app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    clients: list[TestClient] = []

    def _login(username: str) -> TestClient:
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        token = csrf_token(client)
        response = client.post(
            "/login",
            data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        return client

    yield _login
    for client in clients:
        client.__exit__(None, None, None)


def _units(body: dict[str, object]) -> list[tuple[str, str]]:
    rows = body["rows"]
    assert isinstance(rows, list)
    return [(r["level"], r["unit_id"]) for r in rows]


def test_who_reads_which_scorecards(login: Callable[[str], TestClient]) -> None:
    expected = {
        "rm1": [("rm", "S1"), ("team", "T1"), ("branch", "B1")],  # their own, and the two benchmarks
        "rm2": [("rm", "S2"), ("team", "T1"), ("branch", "B1")],
        "lead": [("rm", "S1"), ("rm", "S2"), ("team", "T1"), ("branch", "B1")],
        "boss": [("rm", "S1"), ("rm", "S2"), ("team", "T1"), ("branch", "B1")],
        "audit": [("rm", "S1"), ("rm", "S2"), ("team", "T1"), ("branch", "B1")],
    }
    for username, units in expected.items():
        client = login(username)
        response = client.get("/api/v1/scorecards?month=2026-10")
        assert response.status_code == 200, (username, response.text)
        assert _units(response.json()) == units, username
    assert login("analyst").get("/api/v1/scorecards").status_code == 403


def test_an_rm_sees_only_their_own_scorecard(login: Callable[[str], TestClient]) -> None:
    rm = login("rm1")
    page = rm.get("/scorecards")
    assert page.status_code == 200
    assert "王经理" in page.text and "李经理" not in page.text
    # every figure is there with its definition
    for metric in METRICS.values():
        assert metric.zh in page.text or metric.en in page.text
    assert METRICS["risk_adjusted_retention"].definition_zh in page.text
    assert rm.get("/scorecards/rm/S1").status_code == 200
    for path in ("/scorecards/rm/S2", "/api/v1/scorecards/rm/S2"):
        assert rm.get(path).status_code == 404, path
    assert rm.get("/api/v1/scorecards/rm/S1?month=2026-10").json()["history"][0]["figures"]["nps"] == 50
    for path in ("/workload", "/api/v1/workload", "/reports/monthly", "/api/v1/reports/monthly"):
        assert rm.get(path).status_code == 403, path


def test_the_team_and_branch_pages_show_each_definition(login: Callable[[str], TestClient]) -> None:
    boss = login("boss")
    page = boss.get("/scorecards?month=2026-10&team_id=T1")
    assert page.status_code == 200
    assert page.text.count('data-unit="S1"') == 6  # one row in each group's table
    for metric in METRICS.values():
        assert metric.definition_zh in page.text
    assert boss.get("/scorecards?team_id=T9").status_code == 404
    assert boss.get("/scorecards?month=2026-13").status_code == 422
    assert boss.get("/scorecards?month=2026-09").status_code == 404  # none stored for September
    lead = login("lead")
    assert lead.get("/scorecards/rm/S2?month=2026-10").status_code == 200  # a member of the lead's team


def test_workload_proposal_then_confirm_then_apply(
    login: Callable[[str], TestClient], engine: Engine
) -> None:
    lead = login("lead")
    found = lead.get("/api/v1/workload").json()
    assert found["team_id"] == "T1"
    assert [(m["customer_id"], m["from_staff_id"], m["to_staff_id"]) for m in found["moves"]] == [
        ("C01", "S1", "L1")
    ]
    page = lead.get("/workload")
    assert page.status_code == 200 and 'data-customer="C01"' in page.text
    link = re.search(r'id="review-proposal" href="([^"]+)"', page.text)
    assert link
    confirm = lead.get(link.group(1).replace("&amp;", "&"))
    assert confirm.status_code == 200 and 'id="apply-form"' in confirm.text
    token = csrf_token(lead, "/workload")
    form = {"csrf_token": token, "digest": found["digest"], "team_id": "T1", "note": "均衡管户"}
    refused = lead.post("/workload/apply", data=form, follow_redirects=False)
    assert refused.status_code == 422  # not confirmed
    confirmed = form | {"confirm": "yes"}
    stale = lead.post("/workload/apply", data=confirmed | {"digest": "x"}, follow_redirects=False)
    assert stale.status_code == 409
    done = lead.post("/workload/apply", data=confirmed, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/workload?moved=1&team_id=T1"
    with session_scope(engine) as session:
        assert session.scalar(select(Customer.rm_id).where(Customer.customer_id == "C01")) == "L1"
        task = session.scalars(select(Task).where(Task.kind == TaskKind.handover)).one()
        assert (task.customer_id, task.assignee_id, task.note) == ("C01", "L1", "均衡管户")
    assert lead.get("/api/v1/workload").json()["moves"] == []


def test_workload_api_apply_and_departures(login: Callable[[str], TestClient]) -> None:
    boss = login("boss")
    found = boss.get("/api/v1/workload").json()  # the whole branch
    assert found["team_id"] is None and len(found["moves"]) == 1
    headers = {"X-CSRF-Token": csrf_token(boss, "/workload")}
    body = {"digest": found["digest"], "note": "均衡"}
    assert (
        boss.post("/api/v1/workload/apply", json=body | {"digest": "0"}, headers=headers).status_code == 409
    )
    assert boss.post("/api/v1/workload/apply", json=body).status_code == 403  # no CSRF token
    applied = boss.post("/api/v1/workload/apply", json=body, headers=headers)
    assert applied.status_code == 200 and applied.json()["moved"] == 1
    departures = boss.get("/api/v1/workload/departures").json()
    assert departures["departures"] == [] and departures["latest_month"] == "2026-10"
    assert login("lead").get("/api/v1/workload?team_id=T9").status_code == 404


def test_the_monthly_report_page_and_downloads(login: Callable[[str], TestClient]) -> None:
    boss = login("boss")
    page = boss.get("/reports/monthly?month=2026-10")
    assert page.status_code == 200
    assert 'data-testid="monthly-report"' in page.text and 'id="report-charts"' in page.text
    assert "<script>" not in page.text  # the CSP forbids inline script: the page links report.js
    for fmt, media in (
        ("pdf", "application/pdf"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("html", "text/html; charset=utf-8"),
    ):
        assert f'href="/reports/monthly/2026-10/report.{fmt}?lang=zh_CN"' in page.text
        response = boss.get(f"/reports/monthly/2026-10/report.{fmt}?lang=en")
        assert response.status_code == 200, fmt
        assert response.headers["content-type"] == media
        assert (
            response.headers["content-disposition"]
            == f'attachment; filename="monthly-report-2026-10-en.{fmt}"'
        )
    xlsx = boss.get("/api/v1/reports/monthly/2026-10/report.xlsx?lang=zh_CN")
    assert load_workbook(io.BytesIO(xlsx.content)).sheetnames[1] == "1 各层级客户与资产"
    assert boss.get("/reports/monthly/2026-10/report.doc").status_code == 404
    assert boss.get("/reports/monthly/2026-10/report.pdf?lang=fr").status_code == 422
    assert boss.get("/reports/monthly/2026-1x/report.pdf").status_code == 422
    assert boss.get("/reports/monthly?month=2027-01").status_code == 404
    assert boss.get("/reports/assets/report.js").headers["content-type"].startswith("text/javascript")
    assert boss.get("/reports/assets/x.js").status_code == 404
    assert login("audit").get("/reports/monthly").status_code == 200
    assert login("lead").get("/reports/monthly").status_code == 403


def test_the_monthly_report_api(login: Callable[[str], TestClient]) -> None:
    boss = login("boss")
    data = boss.get("/api/v1/reports/monthly?month=2026-10&lang=en").json()
    sections = {s["key"]: s for s in data["sections"]}
    assert sections["tiers"]["figures"] == {
        "customers": 8,
        "aum": 21_030_000.0,
        "watch": 2,
        "watch_aum": 300_000.0,
    }
    assert sections["early_warning"]["figures"]["precision"] == 0.5
    zh = boss.get("/api/v1/reports/monthly?month=2026-10&lang=zh_CN").json()
    assert zh["title"] == "经营月报" and zh["sections"][0]["tables"][0]["rows"][0]["tier"] == "私人银行"
    assert boss.get("/api/v1/reports/monthly?month=2026-10&lang=de").status_code == 422

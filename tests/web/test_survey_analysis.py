"""The survey analysis page: the stored answers in the user's scope, the report in the app shell, and
the HTML and XLSX downloads (audited), on SQLite and PostgreSQL.

The workbench branch (books: S001 has C001 and C003, the lead S002 has C002, team T02's S004 has C004)
gets 25 responses of the shipped questionnaire per customer, answered by the simulator's model.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from sqlalchemy import Engine, insert, select

from tests.surveys.test_report import html_table
from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import Settings
from wealthcrm.db import session_scope
from wealthcrm.simulate.survey import ITEM_IDS, answers
from wealthcrm.surveys.models import SurveyAnswer
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date

from ..customers.workbench import load_workbench
from .conftest import TestClient, log_in
from .html import parse

PER_CUSTOMER = 25
CUSTOMERS = ("C001", "C002", "C003", "C004")
FAST = "models=false"  # the CFA and SEM are tested with the report; here they only cost time


def add_answers(engine: Engine, customers: tuple[str, ...] = CUSTOMERS, seed: int = 4) -> None:
    rng = np.random.default_rng(seed)
    n = PER_CUSTOMER * len(customers)
    sat = rng.standard_normal(n) + np.repeat(np.linspace(-0.8, 0.8, len(customers)), PER_CUSTOMER)
    scores = answers(sat, rng.standard_normal(n), rng.standard_normal(n), rng.random(n) < 0.1, rng)
    rows = [
        {
            "response_id": f"R{r:04d}",
            "item_id": item,
            "customer_id": customers[r // PER_CUSTOMER],
            "questionnaire_id": "branch_default",
            "answered_on": date(2026, 10, 15),
            "score": None if np.isnan(scores[r, j]) else float(scores[r, j]),
        }
        for r in range(n)
        for j, item in enumerate(ITEM_IDS)
    ]
    with session_scope(engine) as session:
        session.execute(insert(SurveyAnswer), rows)


@pytest.fixture
def workbench(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_workbench(engine, settings, tmp_path / "branch")
    return engine


@pytest.fixture
def app(workbench: Engine, settings: Settings) -> FastAPI:
    add_answers(workbench)
    application = create_app(settings, workbench)
    application.dependency_overrides[current_date] = lambda: date(2026, 11, 28)
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def as_user(client: TestClient, username: str) -> TestClient:
    assert log_in(client, username).status_code == 303
    return client


def respondents(html: str) -> int:
    rows = html_table(parse(html), "sample_overview")
    return int(rows[0]["value"].replace(",", ""))


def test_the_analysis_covers_the_users_scope(app: FastAPI) -> None:
    for username, expected in (("boss", 100), ("analyst", 100), ("lead", 75)):
        with TestClient(app) as client:
            page = as_user(client, username).get(f"/surveys/analysis?{FAST}")
            assert page.status_code == 200, page.text
            assert respondents(page.text) == expected
            api = client.get(f"/api/v1/surveys/analysis?{FAST}")
            assert api.status_code == 200
            body = api.json()
            assert body["result"]["n_respondents"] == expected and body["questionnaire"] == "branch_default"
            # the lead's groups are the team's RMs only; the branch manager's include team T02's S004
            rms = set(body["profile"]["rm_id"])
            assert rms == ({"S001", "S002"} if username == "lead" else {"S001", "S002", "S004"})
            scope = parse(page.text).find(data_testid="scope")
            assert scope is not None
            assert ("本团队" in scope.text()) is (username == "lead")
    # the branch manager and the analyst see the same answers: one analysis for both
    assert app.state.survey_analysis_cache.computed == 2


def test_other_roles_may_not(app: FastAPI) -> None:
    for username in ("rm01", "rm02", "svc", "audit", "admin1"):
        with TestClient(app) as client:
            as_user(client, username)
            for path in (
                "/surveys/analysis",
                "/surveys/analysis/report.html",
                "/surveys/analysis/report.xlsx",
                "/api/v1/surveys/analysis",
            ):
                assert client.get(f"{path}?{FAST}").status_code == 403, (username, path)


def test_the_page_is_the_report_in_the_app_shell(client: TestClient, app: FastAPI) -> None:
    page = as_user(client, "boss").get(f"/surveys/analysis?{FAST}")
    root = parse(page.text)
    assert root.find(**{"class": "topbar"}) is not None  # the app's shell
    article = root.find(**{"class": "survey-report"})
    assert article is not None and article.attrs["lang"] == "zh-CN"
    assert [h.text() for h in article.iter("h2")][:3] == ["1 样本概况", "2 信度分析", "3 效度分析"]
    # the content security policy allows no inline script: data blocks and same-site files only
    scripts = root.iter("script")
    assert all(s.attrs.get("src") or s.attrs.get("type") == "application/json" for s in scripts)
    sources = [s.attrs["src"] for s in scripts if s.attrs.get("src")]
    assert any(src.startswith("/static/vendor/echarts.min.js") for src in sources)
    assert any(src.startswith("/surveys/analysis/assets/report.js") for src in sources)
    assert "style=" not in str(article.attrs) and ' style="' not in page.text
    links = {a.attrs.get("id"): a.attrs.get("href") for a in root.iter("a") if a.attrs.get("id")}
    query = "questionnaire=branch_default&missing=pairwise&models=false&lang=zh_CN"
    assert links["download-html"] == f"/surveys/analysis/report.html?{query}"
    assert links["download-xlsx"] == f"/surveys/analysis/report.xlsx?{query}"
    # the English page, the same numbers
    client.cookies.set("lang", "en")
    en = client.get(f"/surveys/analysis?{FAST}")
    assert "Sample profile" in en.text and respondents(en.text) == 100
    assert app.state.survey_analysis_cache.computed == 1  # one analysis for both languages


def test_downloads_are_the_report_and_are_audited(
    client: TestClient, app: FastAPI, workbench: Engine
) -> None:
    as_user(client, "lead")
    html = client.get(f"/surveys/analysis/report.html?{FAST}&lang=en")
    assert html.status_code == 200
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    filename = "survey-branch_default-2026-11-28.html"
    assert html.headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert '<html lang="en">' in html.text and "<script src" not in html.text
    assert respondents(html.text) == 75
    facts = parse(html.text).find(**{"class": "sr-facts"})
    assert facts is not None and "Stored answers of your team's customers" in facts.text()
    xlsx = client.get(f"/surveys/analysis/report.xlsx?{FAST}")
    assert xlsx.status_code == 200 and xlsx.headers["content-disposition"].endswith('.xlsx"')
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames[:2] == ["问卷分析报告", "样本概况"]
    sheet = wb["样本概况"].iter_rows(values_only=True)
    assert [row[1] for row in sheet if row[0] == "受访者" and row[1] is not None] == [75]
    assert app.state.survey_analysis_cache.computed == 1
    with session_scope(workbench) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "survey_report.export").order_by(AuditEntry.seq)
        ).all()
        assert [
            (e.actor, e.details["format"], e.details["locale"], e.details["respondents"]) for e in entries
        ] == [
            ("lead", "html", "en", 75),
            ("lead", "xlsx", "zh_CN", 75),
        ]


def test_bad_input_is_a_clear_4xx_and_the_assets(client: TestClient) -> None:
    as_user(client, "boss")
    unknown = client.get("/api/v1/surveys/analysis?questionnaire=nope")
    assert unknown.status_code == 404 and "questionnaire 'nope' is unknown" in unknown.text
    assert client.get("/surveys/analysis?missing=sometimes").status_code == 422
    assert client.get("/surveys/analysis?questionnaire=%3Cscript%3E").status_code == 422
    assert client.get("/surveys/analysis/report.html?lang=fr").status_code == 422
    # the report's script and style sheet, served for the page
    js = client.get("/surveys/analysis/assets/report.js")
    assert js.status_code == 200 and js.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "echarts.init" in js.text
    css = client.get("/surveys/analysis/assets/report.css")
    assert css.status_code == 200 and ".survey-report" in css.text
    assert client.get("/surveys/analysis/assets/report.py").status_code == 404


def test_no_answers_in_scope(workbench: Engine, settings: Settings) -> None:
    add_answers(workbench, customers=("C004",))  # team T02's customer: outside the lead's scope
    with TestClient(create_app(settings, workbench)) as client:
        page = as_user(client, "lead").get("/surveys/analysis")
        assert page.status_code == 200
        assert parse(page.text).find(data_testid="no-answers") is not None
        assert client.get("/surveys/analysis/report.html").status_code == 404
        assert client.get("/api/v1/surveys/analysis").status_code == 404

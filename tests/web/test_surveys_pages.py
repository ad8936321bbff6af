"""The staff's survey pages: the waves list, creating a wave with a preview, a wave's response rate, the
links CSV (issued once, audited) and closing; who may do what."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import Settings
from wealthcrm.db import session_scope
from wealthcrm.surveys.distribution import hash_token
from wealthcrm.surveys.models import SurveyInvitation, SurveyWave
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date

from ..customers.workbench import load_workbench
from .conftest import CSRF_RE, TestClient, csrf_token, log_in
from .html import by_id, parse

TODAY = date(2026, 11, 28)


@pytest.fixture
def branch(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_workbench(engine, settings, tmp_path / "branch")
    return engine


@pytest.fixture
def app(branch: Engine, settings: Settings) -> FastAPI:
    application = create_app(settings, branch)
    application.dependency_overrides[current_date] = lambda: TODAY
    return application


def signed_in(client: TestClient, username: str) -> str:
    assert log_in(client, username).status_code == 303
    return csrf_token(client, "/surveys") if username != "rm01" else csrf_token(client, "/today")


def form(token: str, **values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "csrf_token": token,
        "name": "2026 四季度满意度",
        "questionnaire_id": "branch_default",
        "opens_on": TODAY.isoformat(),
        "closes_on": (TODAY + timedelta(days=14)).isoformat(),
        "action": "create",
    }
    return base | values


def test_a_branch_manager_creates_a_wave_and_downloads_its_links(client: TestClient, app: FastAPI) -> None:
    token = signed_in(client, "boss")
    empty = client.get("/surveys")
    assert empty.status_code == 200
    assert parse(empty.text).find(data_testid="no-waves") is not None
    assert parse(empty.text).find(data_testid="nav-surveys") is not None
    new = client.get("/surveys/waves/new")
    assert new.status_code == 200 and 'value="branch_default"' in new.text
    preview = client.post("/surveys/waves/new", data=form(token, action="preview", tiers=["sunflower"]))
    shown = parse(preview.text).find(data_testid="preview")
    assert shown is not None and (shown.attrs["data-matched"], shown.attrs["data-targeted"]) == ("2", "2")
    assert "符合条件的客户 2 位，将邀请 2 位。" in shown.text()
    sampled = client.post("/surveys/waves/new", data=form(token, action="preview", sample_size="1", seed="3"))
    found = parse(sampled.text).find(data_testid="preview")
    assert found is not None and (found.attrs["data-matched"], found.attrs["data-targeted"]) == ("3", "1")
    created = client.post("/surveys/waves/new", data=form(token), follow_redirects=False)
    assert created.status_code == 303
    wave_url = created.headers["location"].split("?")[0]
    page = client.get(created.headers["location"])
    assert page.status_code == 200 and "调查批次已创建。" in page.text
    doc = parse(page.text)
    kpi = {k.attrs["data-kpi"]: k.text() for k in doc.iter("div") if "data-kpi" in k.attrs}
    assert kpi["invited"].endswith("3") and kpi["answered"].endswith("0") and kpi["rate"].endswith("0.0%")
    assert by_id(page.text, "by-rm-table").table()[1:] == [
        ["王经理 S001", "2", "0", "0.0%"],
        ["赵经理 S004", "1", "0", "0.0%"],
    ]

    download = client.post(f"{wave_url}/tokens", data={"csrf_token": token})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert download.headers["cache-control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert [(r["customer_id"], r["rm_id"]) for r in rows] == [
        ("C001", "S001"),
        ("C003", "S001"),
        ("C004", "S004"),
    ]
    assert all(r["link"] == f"http://testserver/s/{r['token']}" for r in rows)
    with session_scope(app.state.engine) as session:
        hashes = set(session.scalars(select(SurveyInvitation.token_hash)))
        assert hashes == {hash_token(r["token"]) for r in rows}
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "survey.tokens_issue")).one()
        assert (entry.actor, entry.details) == ("boss", {"count": 3, "reissue": False})
    again = client.post(f"{wave_url}/tokens", data={"csrf_token": token})
    assert again.status_code == 409
    assert "already has a token" in again.text
    reissued = client.post(f"{wave_url}/tokens", data={"csrf_token": token, "reissue": "true"})
    assert reissued.status_code == 200 and reissued.content.decode("utf-8-sig").count("\n") == 4

    listing = client.get("/surveys")
    row = by_id(listing.text, "waves-table").table()[1]
    assert row[0].startswith("2026 四季度满意度") and row[-3:] == ["3", "0", "0.0%"]

    closed = client.post(f"{wave_url}/close", data={"csrf_token": token}, follow_redirects=False)
    assert closed.status_code == 303
    assert "已提前结束" in client.get(wave_url).text
    assert client.post(f"{wave_url}/tokens", data={"csrf_token": token}).status_code == 409


def test_bad_input_is_shown_on_the_form(client: TestClient) -> None:
    token = signed_in(client, "boss")
    for values, words in [
        ({"closes_on": "2026-11-01"}, "before it opens"),
        ({"opens_on": "someday"}, "is not a date"),
        ({"sample_size": "lots"}, "is not a whole number"),
        ({"tiers": ["platinum"]}, "'platinum' is not a valid Tier"),
        ({"questionnaire_id": "nope"}, "no questionnaire 'nope'"),
        ({"rm_id": "S004", "tiers": ["diamond"]}, "no customer in your scope matches the segment"),
    ]:
        page = client.post("/surveys/waves/new", data=form(token, **values))
        assert page.status_code == 422, values
        error = parse(page.text).find(data_testid="error")
        assert error is not None and words in error.text(), (values, error.text() if error else None)
    assert client.post("/surveys/waves/new", data=form("forged")).status_code == 403


@pytest.mark.parametrize(
    ("username", "list_status", "create_status"),
    [("rm01", 403, 403), ("svc", 403, 403), ("admin1", 403, 403), ("audit", 200, 403), ("analyst", 200, 303)],
)
def test_who_may_see_and_run_waves(
    client: TestClient, username: str, list_status: int, create_status: int
) -> None:
    log_in(client, username)
    token = _token(client)
    assert client.get("/surveys").status_code == list_status
    created = client.post("/surveys/waves/new", data=form(token), follow_redirects=False)
    assert created.status_code == create_status


def _token(client: TestClient) -> str:
    page = client.get("/surveys")
    if page.status_code != 200:
        page = client.get("/")
    match = CSRF_RE.search(page.text)
    assert match
    return match.group(1)


def test_a_team_lead_sees_their_teams_part(client: TestClient, app: FastAPI) -> None:
    token = signed_in(client, "boss")
    assert client.post("/surveys/waves/new", data=form(token), follow_redirects=False).status_code == 303
    client.post("/logout", data={"csrf_token": token})
    signed_in(client, "lead")
    with session_scope(app.state.engine) as session:
        wave_id = session.scalars(select(SurveyWave.id)).one()
    page = client.get(f"/surveys/waves/{wave_id}")
    assert page.status_code == 200
    assert by_id(page.text, "by-rm-table").table()[1:] == [["王经理 S001", "2", "0", "0.0%"]]
    assert client.get("/surveys/waves/999").status_code == 404

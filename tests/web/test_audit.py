"""The auditor's pages and API, refused access attempts in the log, and unmasking PII on Customer 360."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select, text

from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import Settings
from wealthcrm.db import session_scope
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date

from ..audit.dba import bypassing_triggers
from ..customers.workbench import MOBILE, NATIONAL_ID, load_workbench
from .conftest import TestClient, csrf_token, log_in
from .html import by_id, parse


@pytest.fixture
def branch(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_workbench(engine, settings, tmp_path / "branch")
    return engine


@pytest.fixture
def app(branch: Engine, settings: Settings) -> FastAPI:
    application = create_app(settings, branch)
    application.dependency_overrides[current_date] = lambda: date(2026, 11, 28)
    return application


def _entries(engine: Engine, action: str | None = None) -> list[AuditEntry]:
    with session_scope(engine) as session:
        stmt = select(AuditEntry).order_by(AuditEntry.seq)
        if action:
            stmt = stmt.where(AuditEntry.action == action)
        return list(session.scalars(stmt))


def _as(client: TestClient, username: str) -> TestClient:
    client.cookies.clear()
    assert log_in(client, username).status_code == 303
    return client


# --- refused access -----------------------------------------------------------------------------------


def test_an_rms_attempt_outside_the_book_is_a_404_and_the_auditor_sees_it(
    client: TestClient, branch: Engine
) -> None:
    _as(client, "rm01")
    outside = client.get("/customers/C004")
    unknown = client.get("/customers/C999")
    assert (outside.status_code, unknown.status_code) == (404, 404)
    assert outside.text.replace("C004", "C999") == unknown.text  # nothing tells them apart
    api = client.get("/api/v1/customers/C004")
    assert (api.status_code, api.json()) == (404, {"error": {"status": 404, "message": "no customer 'C004'"}})
    assert client.get("/customers/C001").status_code == 200  # own customer: no entry

    denied = _entries(branch, "access_denied")
    assert [(e.actor, e.actor_role, e.customer_id, e.details) for e in denied] == [
        ("rm01", "rm", "C004", {"path": "/customers/C004"}),
        ("rm01", "rm", "C004", {"path": "/api/v1/customers/C004"}),
    ]
    assert denied[0].ip == "testclient"

    _as(client, "audit")
    page = client.get("/audit", params={"action": "access_denied"})
    assert page.status_code == 200
    table = by_id(page.text, "audit-table").table()
    assert [row[2:5] for row in table[1:]] == [
        ["rm01 客户经理", "access_denied", "C004"],
        ["rm01 客户经理", "access_denied", "C004"],
    ]
    assert '"path": "/api/v1/customers/C004"' in table[1][6]
    body = client.get("/api/v1/audit", params={"customer_id": "C004"}).json()
    assert (body["total"], [i["action"] for i in body["items"]]) == (2, ["access_denied", "access_denied"])
    assert body["items"][0]["actor"] == "rm01"


def test_the_audit_log_is_for_auditors_and_admins_only(client: TestClient) -> None:
    for username in ("rm01", "lead", "boss", "analyst", "svc"):
        _as(client, username)
        assert client.get("/audit").status_code == 403, username
        assert client.get("/api/v1/audit").status_code == 403, username
        assert client.get("/audit/export.csv").status_code == 403, username
    for username in ("audit", "admin1"):
        _as(client, username)
        assert client.get("/audit").status_code == 200, username
        assert client.get("/api/v1/audit").status_code == 200, username


def test_the_page_shows_the_chain_status_and_filters(client: TestClient, branch: Engine) -> None:
    _as(client, "rm01")
    for _ in range(3):
        client.get("/customers/C004")
    _as(client, "audit")
    page = parse(client.get("/audit").text)
    chain = page.find(data_testid="chain")
    assert chain is not None and chain.attrs["data-ok"] == "true"
    assert chain.text() == "审计链完整 已检查 3 条记录。"
    assert page.find(data_testid="total").text() == "共 3 条"  # type: ignore[union-attr]

    empty = parse(client.get("/audit", params={"actor": "lead", "since": "2026-01-01"}).text)
    assert empty.find(data_testid="no-entries") is not None
    bad = client.get("/audit", params={"since": "01/11/2026"})
    assert bad.status_code == 422
    assert parse(bad.text).find(data_testid="error").text() == "日期格式为 YYYY-MM-DD。"  # type: ignore[union-attr]
    assert client.get("/api/v1/audit", params={"until": "tomorrow"}).status_code == 422

    with bypassing_triggers(branch) as conn:
        conn.execute(text("UPDATE audit_log SET customer_id = 'C001' WHERE seq = 2"))
    chain = parse(client.get("/audit").text).find(data_testid="chain")
    assert chain is not None and chain.attrs["data-ok"] == "false"
    assert chain.text() == "审计链已损坏 第 2 条起断开：该记录写入后被修改"
    verify = client.get("/api/v1/audit/verify").json()
    assert (verify["ok"], verify["broken_seq"], verify["problem"]) == (False, 2, "edited")


def test_pages_of_the_log(client: TestClient) -> None:
    _as(client, "rm01")
    for _ in range(55):
        client.get("/api/v1/customers/C004")
    _as(client, "audit")
    first = client.get("/audit")
    rows = by_id(first.text, "audit-table").table()[1:]
    assert (len(rows), rows[0][0], rows[-1][0]) == (50, "55", "6")
    older = parse(first.text).find(rel="next")
    assert older is not None and older.attrs["href"] == "/audit?page=2"
    second = client.get("/audit?page=2")
    assert [r[0] for r in by_id(second.text, "audit-table").table()[1:]] == ["5", "4", "3", "2", "1"]
    api = client.get("/api/v1/audit", params={"page": 3, "page_size": 20}).json()
    assert (api["total"], api["page"], [i["seq"] for i in api["items"]]) == (55, 3, list(range(15, 0, -1)))


def test_csv_export_is_audited_itself(client: TestClient, branch: Engine) -> None:
    _as(client, "rm01")
    client.get("/customers/C004")
    client.get("/customers/C002")
    _as(client, "audit")
    response = client.get("/audit/export.csv", params={"customer_id": "C002"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="audit-')
    assert response.text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert [(r["seq"], r["actor"], r["action"], r["customer_id"]) for r in rows] == [
        ("2", "rm01", "access_denied", "C002")
    ]
    exported = _entries(branch, "audit.export")
    assert [(e.actor, e.details) for e in exported] == [("audit", {"customer_id": "C002"})]


# --- unmasking ----------------------------------------------------------------------------------------


def _unmask(client: TestClient, customer_id: str, field: str, reason: str) -> tuple[int, str]:
    token = csrf_token(client, "/customers/C001") if customer_id != "C004" else csrf_token(client, "/audit")
    response = client.post(
        f"/customers/{customer_id}/pii/{field}", data={"reason": reason}, headers={"X-CSRF-Token": token}
    )
    return response.status_code, response.text


def test_an_rm_unmasks_with_a_reason_and_the_log_keeps_the_reason_not_the_value(
    client: TestClient, branch: Engine
) -> None:
    _as(client, "rm01")
    page = parse(client.get("/customers/C001").text)
    button = page.find(data_testid="unmask-national_id")
    assert button is not None and button.attrs["hx-get"] == "/customers/C001/pii/national_id/form"
    assert page.find(data_testid="unmask-mobile") is not None
    form = parse(client.get("/customers/C001/pii/mobile/form").text).find(data_testid="unmask-form-mobile")
    assert form is not None and form.attrs["hx-post"] == "/customers/C001/pii/mobile"

    status, html = _unmask(client, "C001", "mobile", "abc")
    assert status == 200 and MOBILE not in html
    assert parse(html).find(data_testid="unmask-error").text() == "请填写至少 4 个字的原因。"  # type: ignore[union-attr]
    assert _entries(branch, "unmask") == []

    status, html = _unmask(client, "C001", "national_id", "客户来电核实身份")
    assert status == 200
    assert parse(html).find(data_testid="clear-national_id").text() == NATIONAL_ID  # type: ignore[union-attr]
    status, html = _unmask(client, "C001", "mobile", "回电确认到期安排")
    assert parse(html).find(data_testid="clear-mobile").text() == MOBILE  # type: ignore[union-attr]

    entries = _entries(branch, "unmask")
    assert [(e.actor, e.customer_id, e.reason, e.details) for e in entries] == [
        ("rm01", "C001", "客户来电核实身份", {"field": "national_id"}),
        ("rm01", "C001", "回电确认到期安排", {"field": "mobile"}),
    ]
    with branch.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(text("SELECT * FROM audit_log")) for v in row)
    assert NATIONAL_ID not in dump and MOBILE not in dump
    # the page still shows the masked values by default
    assert NATIONAL_ID not in client.get("/customers/C001").text
    masked = parse(client.get("/customers/C001/pii/mobile").text).find(data_field="mobile")
    assert masked is not None and masked.text() == "138****5678"


def test_unmask_api(client: TestClient, branch: Engine) -> None:
    _as(client, "boss")
    url = "/api/v1/customers/C001/unmask"
    body = {"field": "mobile", "reason": "投诉回访需要"}
    assert client.post(url, json=body).status_code == 403  # a cookie session needs the CSRF token
    token = csrf_token(client, "/customers/C001")
    response = client.post(url, json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == 200
    assert response.json() == {"customer_id": "C001", "field": "mobile", "value": MOBILE}
    assert response.headers["cache-control"] == "no-store"
    short = client.post(url, json={**body, "reason": " ab "}, headers={"X-CSRF-Token": token})
    assert (short.status_code, short.json()["error"]["message"]) == (422, "reason: at least 4 characters")
    bad = client.post(url, json={**body, "field": "name"}, headers={"X-CSRF-Token": token})
    assert bad.status_code == 422
    none = client.post("/api/v1/customers/C003/unmask", json=body, headers={"X-CSRF-Token": token})
    assert none.status_code == 404  # no mobile on record
    assert [e.actor for e in _entries(branch, "unmask")] == ["boss"]


@pytest.mark.parametrize("username", ["analyst", "audit", "admin1", "svc"])
def test_roles_without_unmask_see_no_button_and_are_refused(
    client: TestClient, branch: Engine, username: str
) -> None:
    _as(client, username)
    page = client.get("/customers/C001")
    if username not in ("svc", "analyst"):  # no look-up (service staff); pseudonymised only (analysts)
        assert page.status_code == 200
        assert parse(page.text).find(data_testid="unmask-mobile") is None
    assert client.get("/customers/C001/pii/mobile/form").status_code == 403
    token = csrf_token(client, "/login")
    response = client.post(
        "/api/v1/customers/C001/unmask",
        json={"field": "mobile", "reason": "just curious"},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 403
    assert MOBILE not in response.text
    assert _entries(branch, "unmask") == []


def test_an_rm_cannot_unmask_outside_the_book_and_the_attempt_is_logged(
    client: TestClient, branch: Engine
) -> None:
    _as(client, "rm01")
    token = csrf_token(client, "/customers/C001")
    response = client.post(
        "/api/v1/customers/C004/unmask",
        json={"field": "mobile", "reason": "looking around"},
        headers={"X-CSRF-Token": token},
    )
    assert (response.status_code, response.json()["error"]["message"]) == (404, "no customer 'C004'")
    # the request's transaction rolled back; the refused attempt was still written
    assert [(e.actor, e.customer_id, e.details) for e in _entries(branch)] == [
        ("rm01", "C004", {"path": "/api/v1/customers/C004/unmask"})
    ]

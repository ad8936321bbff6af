"""The service desk: a look-up by exact id or mobile number (blind index) with a reason opens one
customer's masked page for a limited time; every look-up is audited; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select, update

from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import Settings
from wealthcrm.customers.models import AccessGrant
from wealthcrm.db import session_scope, utcnow
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date

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


def _look_up(client: TestClient, **form: str) -> tuple[int, str]:
    token = csrf_token(client, "/lookup")
    response = client.post("/lookup", data={"csrf_token": token, **form})
    return response.status_code, response.text


def test_a_look_up_by_mobile_opens_the_masked_page_for_hours(client: TestClient, branch: Engine) -> None:
    assert log_in(client, "svc").status_code == 303
    assert client.get("/customers/C001").status_code == 404  # no book
    assert parse(client.get("/lookup").text).find(data_testid="no-grants") is not None

    status, html = _look_up(client, mobile="138 1234 5678", reason="客户在柜台办理，排队号 A023")
    assert status == 200
    found = by_id(html, "found")
    assert found.text() == "陈一 C001 · 138****5678"
    assert MOBILE not in html and NATIONAL_ID not in html
    grants = by_id(html, "grants-table").table()
    assert [r[0] for r in grants[1:]] == ["陈一 C001"]

    page = client.get("/customers/C001")
    assert page.status_code == 200
    assert MOBILE not in page.text and NATIONAL_ID not in page.text
    assert parse(page.text).find(data_testid="unmask-mobile") is None  # service staff never unmask
    assert client.get("/api/v1/customers/C001").json()["mobile_masked"] == "138****5678"
    assert client.get("/customers/C002").status_code == 404  # only what was looked up

    with session_scope(branch) as session:
        grant = session.scalars(select(AccessGrant)).one()
        assert grant.reason == "客户在柜台办理，排队号 A023"
        assert timedelta(hours=7, minutes=59) < grant.expires_at - utcnow() <= timedelta(hours=8)
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "lookup")).one()
        assert (entry.actor, entry.customer_id, entry.reason) == ("svc", "C001", grant.reason)
        assert entry.details["by"] == "mobile" and MOBILE not in str(entry.details)

    # the grant lapses by itself
    with session_scope(branch) as session:
        session.execute(update(AccessGrant).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/customers/C001").status_code == 404


def test_look_up_by_id_and_the_refusals(client: TestClient, branch: Engine) -> None:
    assert log_in(client, "svc").status_code == 303
    status, html = _look_up(client, customer_id="C002", reason="预约理财咨询")
    assert status == 200 and by_id(html, "found").text() == "刘二 C002 · 139****1111"
    status, html = _look_up(client, customer_id="C999", reason="预约理财咨询")
    assert status == 200 and parse(html).find(data_testid="not-found") is not None
    status, html = _look_up(client, customer_id="C001", reason="")
    assert status == 422 and "reason: at least 4 characters" in html
    status, html = _look_up(client, customer_id="C001", mobile=MOBILE, reason="预约理财咨询")
    assert status == 422 and "either a customer id or a mobile number" in html
    status, html = _look_up(client, mobile="12345", reason="预约理财咨询")
    assert status == 422 and "mobile: 11 digits" in html
    with session_scope(branch) as session:
        entries = session.execute(
            select(AuditEntry.customer_id, AuditEntry.details).where(AuditEntry.action == "lookup")
        ).all()
    assert [tuple(e) for e in entries] == [
        ("C002", {"by": "customer_id", "found": 1, "expires_at": entries[0][1]["expires_at"]}),
        (None, {"by": "customer_id", "found": 0, "customer_id": "C999"}),
    ]


def test_the_api_and_other_roles(client: TestClient, branch: Engine) -> None:
    assert log_in(client, "svc").status_code == 303
    token = csrf_token(client, "/lookup")
    response = client.post(
        "/api/v1/lookup",
        json={"mobile": "+86 13812345678", "reason": "电话预约"},
        headers={"X-CSRF-Token": token},
    )
    body = response.json()
    assert response.status_code == 200, body
    assert (response.status_code, body["total"], body["items"][0]["customer_id"]) == (200, 1, "C001")
    assert body["items"][0]["mobile_masked"] == "138****5678"
    for username in ("rm01", "boss", "audit"):
        client.cookies.clear()
        assert log_in(client, username).status_code == 303
        assert client.get("/lookup").status_code == 403
        token = csrf_token(client, "/login")
        refused = client.post(
            "/api/v1/lookup",
            json={"customer_id": "C004", "reason": "just looking"},
            headers={"X-CSRF-Token": token},
        )
        assert refused.status_code == 403

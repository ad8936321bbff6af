"""Administration pages: users (create, role, deactivate, password, unlock) for admins only, all audited;
delegations as a page and an API."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select, update

from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import Settings
from wealthcrm.db import session_scope, utcnow
from wealthcrm.users import service as users
from wealthcrm.users.models import User
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date

from ..customers.workbench import PASSWORD, load_workbench
from .conftest import TestClient, csrf_token, log_in
from .html import by_id, parse

TODAY = date.today()


@pytest.fixture
def branch(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_workbench(engine, settings, tmp_path / "branch")
    return engine


@pytest.fixture
def app(branch: Engine, settings: Settings) -> FastAPI:
    application = create_app(settings, branch)
    application.dependency_overrides[current_date] = lambda: TODAY
    return application


def _as(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    client.cookies.clear()
    assert log_in(client, username, password).status_code == 303
    return client


def _post(client: TestClient, path: str, data: dict[str, str], page: str = "/admin/users") -> tuple[int, str]:
    token = csrf_token(client, page)
    response = client.post(path, data={**data, "csrf_token": token}, follow_redirects=True)
    return response.status_code, response.text


def _audit(engine: Engine, prefix: str) -> list[tuple[str | None, ...]]:
    with session_scope(engine) as session:
        rows = session.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.entity_id)
            .where(AuditEntry.action.startswith(prefix))
            .order_by(AuditEntry.seq)
        ).all()
    return [tuple(r) for r in rows]


def test_only_admins_manage_users(client: TestClient) -> None:
    for username in ("rm01", "boss", "audit", "svc"):
        _as(client, username)
        assert client.get("/admin/users").status_code == 403, username
        token = csrf_token(client, "/login")
        data = {"csrf_token": token, "username": "x1", "role": "auditor", "password": "long enough 123"}
        assert client.post("/admin/users", data=data).status_code == 403, username
    _as(client, "admin1")
    table = by_id(client.get("/admin/users").text, "users-table").table()
    assert [row[0] for row in table[1:]] == [
        "admin1",
        "analyst",
        "audit",
        "boss",
        "lead",
        "rm01",
        "rm02",
        "svc",
    ]


def test_an_admin_creates_changes_deactivates_and_resets_users(client: TestClient, branch: Engine) -> None:
    _as(client, "admin1")
    status, html = _post(
        client,
        "/admin/users",
        {"username": "rm03", "role": "rm", "staff_id": "S001", "password": "short", "display_name": ""},
    )
    assert status == 422
    assert parse(html).find(data_testid="error").text() == "password: at least 10 characters"  # type: ignore[union-attr]
    status, html = _post(
        client,
        "/admin/users",
        {
            "username": "comp2",
            "role": "auditor",
            "staff_id": "",
            "password": "long enough 123",
            "display_name": "合规二",
        },
    )
    assert status == 200
    assert parse(html).find(data_testid="done").text() == "用户已创建。"  # type: ignore[union-attr]

    status, html = _post(client, "/admin/users/comp2/role", {"role": "rm", "staff_id": ""})
    assert status == 422 and "must be linked to a staff member" in html
    status, _ = _post(client, "/admin/users/lead/role", {"role": "rm", "staff_id": "S001"})
    assert status == 200
    status, _ = _post(client, "/admin/users/comp2/active", {"active": "false"})
    assert status == 200
    status, html = _post(client, "/admin/users/admin1/active", {"active": "false"})
    assert status == 422 and "cannot deactivate your own account" in html
    status, _ = _post(client, "/admin/users/rm01/password", {"password": "a brand new password"})
    assert status == 200

    with session_scope(branch) as session:
        lead = users.get(session, username="lead")
        assert (lead.role.value, lead.staff_id) == ("rm", "S001")
        assert users.get(session, username="comp2").is_active is False
    assert log_in(client, "comp2", "long enough 123").status_code == 401
    assert log_in(client, "rm01", PASSWORD).status_code == 401
    _as(client, "rm01", "a brand new password")
    assert _audit(branch, "user.") == [
        ("admin1", "user.create", "comp2"),
        ("admin1", "user.update", "lead"),
        ("admin1", "user.deactivate", "comp2"),
        ("admin1", "user.reset_password", "rm01"),
    ]
    with session_scope(branch) as session:
        details = session.scalars(select(AuditEntry.details).where(AuditEntry.action == "user.update")).one()
    assert details == {
        "role": ["team_lead", "rm"],
        "staff_id": ["S002", "S001"],
        "display_name": ["李主管", "王经理"],
    }


def test_an_admin_unlocks_a_locked_user(client: TestClient, branch: Engine) -> None:
    with session_scope(branch) as session:
        session.execute(
            update(User).where(User.username == "rm02").values(locked_until=utcnow() + timedelta(minutes=10))
        )
    _as(client, "admin1")
    row = by_id(client.get("/admin/users").text, "users-table").find(**{"data-user": "rm02"})
    assert row is not None and "已锁定" in row.text()
    assert _post(client, "/admin/users/rm02/unlock", {})[0] == 200
    _as(client, "rm02")
    assert _audit(branch, "user.unlock") == [("admin1", "user.unlock", "rm02")]


def test_delegation_page_and_api(client: TestClient, branch: Engine) -> None:
    _as(client, "rm02")
    ends = (TODAY + timedelta(days=5)).isoformat()
    status, html = _post(
        client,
        "/admin/delegations",
        {
            "customer_id": "C004",
            "to_staff_id": "S001",
            "starts_on": TODAY.isoformat(),
            "ends_on": ends,
            "reason": "年假",
        },
        page="/admin/delegations",
    )
    assert status == 200
    table = by_id(html, "delegations-table").table()
    assert table[1][:5] == ["周四 C004", "王经理 S001", TODAY.isoformat(), ends, "生效中"]
    status, html = _post(
        client,
        "/admin/delegations",
        {"customer_id": "C001", "to_staff_id": "S001", "starts_on": TODAY.isoformat(), "ends_on": ends},
        page="/admin/delegations",
    )
    assert status == 422 and parse(html).find(data_testid="error").text() == "no customer 'C001'"  # type: ignore[union-attr]

    _as(client, "rm01")  # the delegate now sees C004, on pages and in the API
    assert client.get("/customers/C004").status_code == 200
    items = client.get("/api/v1/delegations").json()["items"]
    assert [(i["customer_id"], i["to_staff_id"], i["status"]) for i in items] == [("C004", "S001", "active")]
    token = csrf_token(client, "/admin/delegations")
    assert (
        client.delete(f"/api/v1/delegations/{items[0]['id']}", headers={"X-CSRF-Token": token}).status_code
        == 403
    )

    _as(client, "boss")
    token = csrf_token(client, "/admin/delegations")
    created = client.post(
        "/api/v1/delegations",
        json={"customer_id": "C001", "to_staff_id": "S004", "starts_on": TODAY.isoformat(), "ends_on": ends},
        headers={"X-CSRF-Token": token},
    )
    assert (created.status_code, created.json()["status"]) == (201, "active")
    assert (
        client.delete(f"/api/v1/delegations/{items[0]['id']}", headers={"X-CSRF-Token": token}).status_code
        == 204
    )
    _as(client, "rm01")
    assert client.get("/customers/C004").status_code == 404
    assert client.get("/admin/delegations").status_code == 200
    _as(client, "svc")
    assert client.get("/admin/delegations").status_code == 403
    assert [a for _, a, _ in _audit(branch, "delegation.")] == [
        "delegation.create",
        "delegation.create",
        "delegation.revoke",
    ]

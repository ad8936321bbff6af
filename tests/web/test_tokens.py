"""API bearer tokens: issued for a password (with the login form's lockout), stored hashed, accepted by
/api/v1 routes without CSRF, revocable; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import Engine, select, update

from wealthcrm.audit.models import AuditEntry
from wealthcrm.db import session_scope, utcnow
from wealthcrm.users import service as users
from wealthcrm.users.models import ApiToken, User

from .branch import PASSWORD
from .conftest import TestClient, log_in

URL = "/api/v1/auth/token"


def _token(client: TestClient, username: str = "boss", password: str = PASSWORD) -> str:
    response = client.post(URL, json={"username": username, "password": password, "name": "report script"})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_is_issued_once_and_stored_only_as_its_sha256(client: TestClient, branch: Engine) -> None:
    before = utcnow()
    response = client.post(URL, json={"username": "boss", "password": PASSWORD})
    body = response.json()
    assert (response.status_code, body["token_type"], sorted(body)) == (
        200,
        "bearer",
        ["access_token", "expires_at", "token_type"],
    )
    assert response.headers["cache-control"] == "no-store"
    token = body["access_token"]
    assert token.startswith("wcrm_") and len(token) > 40
    with session_scope(branch) as session:
        row = session.scalars(select(ApiToken)).one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert (
            timedelta(hours=8) - timedelta(minutes=1)
            < row.expires_at - before
            <= timedelta(hours=8, seconds=5)
        )
        assert body["expires_at"] == row.expires_at.isoformat() + "Z"
        issued = session.scalars(select(AuditEntry).where(AuditEntry.action == "token.issue")).one()
        assert (issued.actor, issued.entity_id) == ("boss", str(row.id))
        assert token not in str(issued.details)


def test_every_api_route_takes_the_token_and_pages_do_not(client: TestClient) -> None:
    token = _token(client)
    client.cookies.clear()
    assert client.get("/api/v1/overview", headers=_bearer(token)).status_code == 200
    assert client.get("/api/v1/customers", headers=_bearer(token)).json()["total"] == 3
    page = client.get("/", headers=_bearer(token), follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/login?next=%2F")
    for bad in ("wcrm_forged", token + "x", "", "Basic " + token):
        response = client.get("/api/v1/overview", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401, bad


def test_a_bearer_post_needs_no_csrf_token_but_a_cookie_post_does(client: TestClient, branch: Engine) -> None:
    token = _token(client)
    client.cookies.clear()
    body = {"field": "mobile", "reason": "客户来电核实"}
    response = client.post("/api/v1/customers/C001/unmask", json=body, headers=_bearer(token))
    assert (response.status_code, response.json()["value"]) == (200, "13812345678")
    assert log_in(client, "boss").status_code == 303
    assert client.post("/api/v1/customers/C001/unmask", json=body).status_code == 403


def test_a_bearer_header_wins_over_a_cookie(client: TestClient) -> None:
    token = _token(client, "rm01")
    assert log_in(client, "boss").status_code == 303
    assert client.get("/api/v1/overview").status_code == 200  # boss by cookie
    assert client.get("/api/v1/overview", headers=_bearer(token)).status_code == 403  # rm01 by token
    assert client.get("/api/v1/overview", headers=_bearer("wcrm_nope")).status_code == 401


def test_wrong_passwords_count_towards_the_same_lockout(client: TestClient, branch: Engine) -> None:
    for _ in range(4):
        response = client.post(URL, json={"username": "lead", "password": "wrong password"})
        assert response.status_code == 401
        assert response.json() == {"error": {"status": 401, "message": "用户名或密码错误。"}}
    assert log_in(client, "lead", "wrong password").status_code == 401  # the fifth, on the form: locked
    locked = client.post(URL, json={"username": "lead", "password": PASSWORD})
    assert locked.status_code == 401 and "账户已锁定" in locked.json()["error"]["message"]
    unknown = client.post(URL, json={"username": "nobody", "password": PASSWORD})
    assert unknown.json()["error"]["message"] == "用户名或密码错误。"
    assert client.post(URL, json={"username": "lead"}).status_code == 422


def test_revoking_ends_the_token(client: TestClient, branch: Engine) -> None:
    token = _token(client)
    other = _token(client)
    client.cookies.clear()
    assert client.delete(URL, headers=_bearer(token)).status_code == 204
    assert client.get("/api/v1/overview", headers=_bearer(token)).status_code == 401
    assert client.delete(URL, headers=_bearer(token)).status_code == 401
    assert client.get("/api/v1/overview", headers=_bearer(other)).status_code == 200
    assert log_in(client, "boss").status_code == 303
    cookie = client.delete(URL)  # a cookie session has no token to revoke (it logs out at /logout)
    assert (cookie.status_code, cookie.json()["error"]["message"]) == (
        422,
        "send the token to revoke in the Authorization: Bearer header",
    )
    with session_scope(branch) as session:
        revoked = session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "token.revoke")).all()
    assert revoked == ["boss"]


def test_expiry_deactivation_and_password_reset_end_tokens(client: TestClient, branch: Engine) -> None:
    token = _token(client, "rm01")
    client.cookies.clear()
    with session_scope(branch) as session:
        session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/api/v1/today", headers=_bearer(token)).status_code == 401

    token = _token(client, "rm01")
    with session_scope(branch) as session:
        users.reset_password(session, actor=None, username="rm01", password="another good password")
    assert client.get("/api/v1/today", headers=_bearer(token)).status_code == 401

    token = _token(client, "boss")
    with session_scope(branch) as session:
        session.execute(update(User).where(User.username == "boss").values(is_active=False))
    assert client.get("/api/v1/overview", headers=_bearer(token)).status_code == 401
